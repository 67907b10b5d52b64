import asyncio
import queue
import threading
from fractions import Fraction

import av
import numpy as np
from aiortc import RTCRtpCodecParameters, rtcrtpreceiver
from aiortc.jitterbuffer import JitterFrame

from dashboard.webrtc.decoder_pool import NotifyingQueue, PooledDecoder, share_decoder_threads
from dashboard.webrtc.frame_pool import FramePool

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=97)


def vp8_packets(values: list[int]) -> list[bytes]:
    """One VP8 frame per value (a flat grey picture of that brightness), keyframe first."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt, codec.bit_rate = 64, 48, "yuv420p", 200_000
    codec.time_base = Fraction(1, 10)
    codec.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for i, value in enumerate(values):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), value, np.uint8), format="bgr24").reformat(format="yuv420p")
        frame.pts = i
        packets += [bytes(p) for p in codec.encode(frame)]
    return packets + [bytes(p) for p in codec.encode(None)]


async def decode_all(decoders: list[tuple[NotifyingQueue, asyncio.Queue]],  # type: ignore[type-arg]
                     streams: list[list[bytes | None]]) -> list[list[tuple[int, int]]]:
    """Feed each stream's packets (None: a corrupt frame) into its decoder queue from the loop, as aiortc's receiver
    does, end each with None, and collect (pts, brightness) per decoded frame until the end arrives (None). Frames arrive
    after the decoders have started and gone idle, a few milliseconds apart, as a stream's frames do."""
    await asyncio.sleep(0.05)
    for (input_q, _), packets in zip(decoders, streams):
        for k, packet in enumerate(packets):
            input_q.put((VP8, JitterFrame(packet if packet is not None else b"\x00" * 40, k * 9000)))
            await asyncio.sleep(0.002)
        input_q.put(None)
    results: list[list[tuple[int, int]]] = []
    for _, output_q in decoders:
        got: list[tuple[int, int]] = []
        while (frame := await asyncio.wait_for(output_q.get(), 10)) is not None:
            got.append((frame.pts, int(frame.to_ndarray(format="gray").mean().round())))
        results.append(got)
    return results


def run_decoders(streams: list[list[bytes | None]], make) -> tuple[list[list[tuple[int, int]]], list[threading.Event], list]:  # type: ignore[no-untyped-def, type-arg]
    async def main():  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        decoders, errors, threads = [], [], []
        for _ in streams:
            input_q, output_q, error = NotifyingQueue(), asyncio.Queue(), threading.Event()  # type: ignore[var-annotated]
            thread = make(loop, input_q, output_q, error)
            thread.start()
            decoders.append((input_q, output_q))
            errors.append(error)
            threads.append(thread)
        results = await decode_all(decoders, streams)
        for thread in threads:
            await asyncio.to_thread(thread.join, 5)
        return results, errors, threads

    return asyncio.run(main())


def test_every_frame_of_every_stream_is_decoded_in_order_on_the_pool_and_the_end_reaches_each_track() -> None:
    pool = FramePool(1, name="decoder-pool")
    one, two = vp8_packets([40, 80, 120, 160, 200]), vp8_packets([200, 150, 100])

    def make(loop, input_q, output_q, error):  # type: ignore[no-untyped-def]
        return PooledDecoder(pool, loop, input_q, output_q, error)

    results, errors, decoders = run_decoders([list[bytes | None](one), list[bytes | None](two)], make)
    for got, values in zip(results, ([40, 80, 120, 160, 200], [200, 150, 100])):
        assert [pts for pts, _ in got] == [k * 9000 for k in range(len(values))]  # aiortc's timestamps as pts
        assert all(abs(seen - value) <= 6 for (_, seen), value in zip(got, values))  # each picture, in order
    assert not any(e.is_set() for e in errors)
    assert not any(d.is_alive() for d in decoders)  # join returned because the end was delivered


def test_a_corrupt_frame_is_flagged_as_aiortc_does_and_the_stream_goes_on() -> None:
    pool = FramePool(2, name="decoder-pool")
    packets = list[bytes | None](vp8_packets([60, 90, 120]))
    packets.insert(2, None)  # garbage between the second and third frames

    def make(loop, input_q, output_q, error):  # type: ignore[no-untyped-def]
        return PooledDecoder(pool, loop, input_q, output_q, error)

    results, errors, _ = run_decoders([packets], make)
    assert errors[0].is_set()
    assert [round(v / 30) for _, v in results[0]][:2] == [2, 3]  # decoding went on, and the end arrived


def test_aiortc_receivers_get_a_pooled_decoder_and_their_own_thread_again_when_restored() -> None:
    loop = asyncio.new_event_loop()
    try:
        share_decoder_threads(2)
        input_q: queue.Queue[object] = rtcrtpreceiver.queue.Queue()  # what RTCRtpReceiver.__init__ creates
        decoder = rtcrtpreceiver.threading.Thread(target=rtcrtpreceiver.decoder_worker, name="video-decoder",
                                                  args=(loop, input_q, asyncio.Queue(), threading.Event()))
        assert isinstance(input_q, NotifyingQueue) and isinstance(decoder, PooledDecoder)
        other = rtcrtpreceiver.threading.Thread(target=lambda: None)  # anything else stays a real thread
        assert isinstance(other, threading.Thread)
        assert isinstance(rtcrtpreceiver.threading.Event(), threading.Event)  # the rest is the real module
        # aiortc's own decoder_worker on a real thread still runs with a notifying queue (what a plain put sees)
        results, errors, _ = run_decoders([list[bytes | None](vp8_packets([100, 140]))], lambda loop, i, o, e: threading.Thread(
            target=rtcrtpreceiver.decoder_worker, args=(loop, i, o, e)))
        assert [round(v / 20) for _, v in results[0]] == [5, 7] and not errors[0].is_set()
    finally:
        share_decoder_threads(0)
        loop.close()
    assert rtcrtpreceiver.threading is threading and rtcrtpreceiver.queue is queue
    assert isinstance(rtcrtpreceiver.threading.Thread(target=rtcrtpreceiver.decoder_worker, args=()), threading.Thread)
