"""Entry point: `streamlit run dashboard/app.py`; pages for students, teachers, admins and still images."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, the packages live one level up
    sys.path.insert(0, str(ROOT))

# aiortc's SRTP binding segfaults when it is loaded after TensorFlow (measured: `import tensorflow; import pylibsrtp`
# crashes, the reverse order works), and the Keras runtime or the MTCNN detector may load TensorFlow first.
import streamlit as st  # noqa: E402
import streamlit_webrtc  # noqa: E402,F401

st.set_page_config(page_title="Classroom engagement", page_icon=":material/school:", layout="wide")
pages = {
    "Students": [st.Page("views/student.py", title="Join a lesson", icon=":material/videocam:", url_path="join", default=True)],
    "Staff": [
        st.Page("views/teacher.py", title="Teacher dashboard", icon=":material/monitoring:", url_path="teacher"),
        st.Page("views/courses.py", title="Courses", icon=":material/timeline:", url_path="courses"),
        st.Page("views/recordings.py", title="Recorded lessons", icon=":material/movie:", url_path="recordings"),
        st.Page("views/admin.py", title="Administration", icon=":material/folder_managed:", url_path="admin"),
        st.Page("views/still.py", title="Analyse a photo", icon=":material/image:", url_path="photo"),
        st.Page("views/account.py", title="Your account", icon=":material/key:", url_path="account"),
    ],
    "Help": [st.Page("views/about.py", title="Privacy & lawful use", icon=":material/lock:", url_path="about")],
}
navigation = st.navigation(pages)
from dashboard.webrtc.context import note_page  # noqa: E402

note_page(st.session_state, navigation.url_path)  # every full run (fragment reruns do not run this file)
from dashboard.auth import sign_out_button  # noqa: E402

sign_out_button()
navigation.run()
