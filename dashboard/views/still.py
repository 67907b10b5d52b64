"""Still-image view: upload a photo or take a snapshot; every face with its seven probabilities."""
from __future__ import annotations

import cv2
import streamlit as st

from dashboard import charts
from dashboard.resources import classifier, get_settings
from engine.analysis import analyse_image
from engine.annotate import draw_faces
from engine.detectors import make_detector
from engine.media import MediaError, image_from_bytes

st.title("Analyse a photo")
settings = get_settings()
st.caption("The photo is analysed in memory and not stored.")
upload_tab, camera_tab = st.tabs(["Upload", "Camera"])
upload = upload_tab.file_uploader("Image", type=["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff"])
snapshot = camera_tab.camera_input("Snapshot")
source = upload or snapshot
if source is None:
    st.stop()
try:
    image = image_from_bytes(source.getvalue(), settings.max_image_pixels, source.name)
except MediaError as exc:
    st.error(str(exc))
    st.stop()
with st.spinner("Finding faces…"):
    results = analyse_image(image, make_detector(settings.detector), classifier())
if not results:
    st.warning("No face found. Try a brighter, front-facing photo.")
st.image(cv2.cvtColor(draw_faces(image.copy(), results), cv2.COLOR_BGR2RGB), width="stretch")
for i, result in enumerate(results, 1):
    if result.prediction is None:
        st.write(f"Face {i}: box {result.box.as_list()} (emotion inference is off)")
        continue
    st.plotly_chart(charts.probability_bars(result.prediction, f"Face {i}: {result.prediction.label} "
                                            f"({result.prediction.confidence:.0%})"), key=f"face-{i}")
