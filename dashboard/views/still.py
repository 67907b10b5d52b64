"""Still-image view: upload a photo or take a snapshot; every face with its seven probabilities."""
from __future__ import annotations

import cv2
import streamlit as st

from dashboard import charts
from dashboard.resources import classifier, explainer, get_settings
from engine.analysis import analyse_image
from engine.annotate import draw_faces
from engine.detectors import wide_frame_detector
from engine.gradcam import overlay
from engine.media import MediaError, image_from_bytes
from engine.preprocess import crop_face, preprocess_faces, to_gray

st.title("Analyse a photo")
settings = get_settings()
st.caption("The photo is analysed in memory and not stored.")
upload_tab, camera_tab = st.tabs(["Upload", "Camera"])
upload = upload_tab.file_uploader("Image", type=["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff"], max_upload_size=50)
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
    results = analyse_image(image, wide_frame_detector(settings.detector), classifier())
if not results:
    st.warning("No face found. Try a brighter, front-facing photo.")
st.image(cv2.cvtColor(draw_faces(image.copy(), results), cv2.COLOR_BGR2RGB), width="stretch")
explain = explainer() if results else None
show_cam = explain is not None and st.toggle("Show where the model looked (Grad-CAM)", value=True)
gray = to_gray(image)
for i, result in enumerate(results, 1):
    if result.prediction is None:
        st.write(f"Face {i}: box {result.box.as_list()} (emotion inference is off)")
        continue
    chart_col, cam_col = st.columns([3, 1]) if show_cam else (st.container(), None)
    chart_col.plotly_chart(charts.probability_bars(result.prediction, f"Face {i}: {result.prediction.label} "
                                                   f"({result.prediction.confidence:.0%})"), key=f"face-{i}")
    if cam_col is not None and explain is not None:
        keras_clf, cam = explain
        crop = crop_face(gray, result.box)
        face = preprocess_faces([crop], keras_clf.card.input_size, keras_clf.card.preprocessing)[0]
        heat = cam.heatmap(face, result.prediction.top_index)
        cam_col.image(cv2.cvtColor(overlay(cv2.resize(crop, (160, 160)), heat), cv2.COLOR_BGR2RGB),
                      caption=f"Grad-CAM for {result.prediction.label}")
