"""A process that records observations the way the app does (a writer closed at exit) and shuts down cleanly on
SIGTERM, as Streamlit's server does; for the fault tests. Prints how many observations it accepted, then waits.

python -m tests.db.writer_process URL LESSON_ID PARTICIPANT_ID COUNT
"""
import atexit
import signal
import sys

from db.session import open_database
from db.writer import ObservationWriter
from tests.db.conftest import make_observation


def main() -> None:
    url, lesson_id, participant_id, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    _engine, sessions = open_database(url)
    writer = ObservationWriter(sessions)
    atexit.register(writer.close, 30.0)  # dashboard/resources.py does the same
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    accepted = sum(writer.submit(lesson_id, participant_id, make_observation()) for _ in range(count))
    print(accepted, flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
