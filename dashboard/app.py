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

# The tab's icon is served by the app itself: a Material icon as page_icon is fetched from fonts.gstatic.com, which a
# school network may block and which would tell Google who opens the page.
st.set_page_config(page_title="Classroom engagement", page_icon=str(ROOT / "dashboard" / "assets" / "icon.png"),
                   layout="wide")
from dashboard.auth import sign_out_button, signed_in  # noqa: E402
from dashboard.webrtc.context import note_page  # noqa: E402

# Students see the student page and the privacy page, and the teacher dashboard, where staff sign in. Every other
# staff page appears once its account may use it; until then it stays reachable by its address (a bookmark, the
# sign-in page's way back), where it asks for a sign-in.
account = signed_in()
staff = account is not None
admin = staff and account.is_admin  # type: ignore[union-attr]


def staff_page(view: str, title: str, icon: str, url_path: str, shown: bool) -> st.Page:
    return st.Page(view, title=title, icon=icon, url_path=url_path, visibility="visible" if shown else "hidden")


pages = {
    "Students": [st.Page("views/student.py", title="Join a lesson", icon=":material/videocam:", url_path="join", default=True)],
    "Staff": [
        st.Page("views/teacher.py", title="Teacher dashboard", icon=":material/monitoring:", url_path="teacher"),
        staff_page("views/courses.py", "Courses", ":material/timeline:", "courses", staff),
        staff_page("views/recordings.py", "Recorded lessons", ":material/movie:", "recordings", staff),
        staff_page("views/admin.py", "Administration", ":material/folder_managed:", "admin", admin),
        staff_page("views/still.py", "Analyse a photo", ":material/image:", "photo", staff),
        staff_page("views/account.py", "Your account", ":material/key:", "account", staff),
    ],
    "Help": [st.Page("views/about.py", title="Privacy & lawful use", icon=":material/lock:", url_path="about")],
}
navigation = st.navigation(pages)
note_page(st.session_state, navigation.url_path)  # every full run (fragment reruns do not run this file)
sign_out_button(account)
navigation.run()
