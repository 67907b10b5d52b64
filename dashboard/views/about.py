"""About and privacy: what the product records, and the lawful-use note."""
import streamlit as st

from dashboard.resources import get_settings

settings = get_settings()
st.title("Privacy and lawful use")
st.markdown(f"""
**This deployment:** privacy mode `{settings.privacy_mode}` · emotion inference
{'**on**' if settings.emotion_inference else '**off** (attention signals only)'} · teachers see windows with at least
{settings.min_group_size} students.

- Webcam frames, photos and recorded lessons sent by staff are processed in memory and never written to disk.
- Records hold class probabilities, time stamps and a random participant id; exports use the random id only.
- Emotion estimates describe facial expressions, not inner states, and are often wrong for an individual.

**EU AI Act.** Article 5(1)(f) prohibits AI systems that infer the emotions of people in education institutions
in the EU (in force since 2 February 2025, with narrow medical and safety exceptions). A deployment there should run
with `ENGAGE_PRIVACY_MODE=attention-only`, which never loads the emotion model. This is not legal advice.
""")
