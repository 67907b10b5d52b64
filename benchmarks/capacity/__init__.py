"""Capacity: how many students can stream at once to one server with the default model and settings.

python -m benchmarks.capacity [--streams N] [--max-streams 64] [--seconds 20] [--processes K] [--json]

Each simulated student is the media work streamlit-webrtc and aiortc do for a real one, in one app process (streams
start spread over one second, as students never join phase-locked). Frames take the app's own path:
- on the one event loop all streams share, the next VP8 frame of a real face video arrives at the stream's frame
  rate and goes into a decoder queue, decoded as aiortc's RTCRtpReceiver decodes: aiortc's decoder_worker, on the
  app's shared decoder threads (dashboard.webrtc.decoder_pool, Tuning.decoder_threads; 0: aiortc's own thread per stream),
  into aiortc's track for a received video;
- aiortc's MediaRelay and streamlit-webrtc's AsyncVideoProcessTrack, wired as webrtc_streamer(async_processing=True)
  wires them: the newest frame goes to the app's shared frame threads (dashboard.webrtc.frame_pool, Tuning.frame_threads;
  0: streamlit-webrtc's own thread per stream), which run the app's own frame callback
  (dashboard.streaming.frame_callback: to BGR, StreamProcessor, back to a VideoFrame) with the default detector,
  model, attention signals, the process's shared AnalysisWorker (unless --inline-analysis) and the real
  ObservationWriter on a fresh SQLite file;
- a sender task that encodes every returned frame with the encoder aiortc's RTCRtpSender gets (the app's tuning
  included) in the loop's executor, as that sender does.
Not simulated: aiortc's RTP/SRTP/ICE work and each student's Streamlit session. benchmarks.browser_capacity
measures how much a real Chromium student costs beside this simulation (README, Capacity).

A stream passes when its frame callback's 95th percentile, and that of the delay from a frame's
arrival (encoded) to the encoding of the frame returned for it, stay <= --p95-ms (66 ms: one frame at 15 fps), its
face (its most-analysed track) gets one analysis per ENGAGE_ANALYSIS_INTERVAL (2 % allowed for jitter), and its receiver
keeps pace with the frame rate (>= 95 % of frames decoded and handed on), and so do its frame callback and its sender (>= 90 % of
the frame rate processed and sent back: both take the newest frame and skip the rest when late, so a picture that
repeats frames would otherwise pass).
`max_streams` is the largest N at which every stream passes: N rises in steps of --step until a run fails, then
the gap is bisected. CPU use is the process's CPU time over the measured window, in cores and as a share of the
machine.

--processes K runs each N as K copies of this benchmark side by side, N split between them (several app instances
on one machine, each with its own GIL, as dashboard.serve runs them): a run passes when every stream of every copy
passes; cores are the copies' sum. By default K is the number of app processes the app itself starts on this machine
(ENGAGE_INSTANCES; 0, its default, is one per usable core, at most 8); --processes 1 measures one app process. The
copies start together and each measures its own window after its own warm-up, so the windows overlap by all but the
difference in their start-up times.

Reported, not judged: "age p95", how old the picture under the overlay is when it is encoded (from the arrival of
the frame the callback worked on). streamlit-webrtc's async track answers each frame with the newest finished
result, relabelled, so the picture is one frame interval older than the path's delay when the callback keeps up."""
import aiortc  # noqa: F401  (before anything imports TensorFlow: pylibsrtp after TF segfaults)
