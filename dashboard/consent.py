"""What a student is told before streaming, for the deployment's and the lesson's privacy settings."""
from __future__ import annotations

COMMON_START = (
    "- Your camera picture is analysed **in memory on the school's server** and is **never stored or recorded**.\n"
)
COMMON_END = "- You can stop the camera or leave at any time.\n"


def consent_text(emotion_inference: bool, per_student: bool, min_group: int) -> str:
    """Markdown shown above the consent box."""
    if not emotion_inference:
        recorded = ("- Only whether a face is visible is recorded (this school runs **no emotion analysis**), "
                    "with a time stamp and a random id (not your name).\n")
    else:
        recorded = ("- About once a second the software estimates how likely seven facial expressions are "
                    "(Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral). Those numbers, a time stamp and a random "
                    "id (not your name) are saved.\n"
                    "- The estimates are often wrong: they describe a facial expression, not how you feel.\n")
    if per_student:
        visible = ("- **In this lesson your teacher can see your own timeline**, under the display name you give, "
                   "as well as the class as a whole.\n")
    else:
        visible = (f"- Your teacher sees **the class as a whole only**, and only when at least {min_group} students "
                   "are streaming; nobody sees your own results.\n")
    return "**What happens when you stream**\n\n" + COMMON_START + recorded + visible + COMMON_END
