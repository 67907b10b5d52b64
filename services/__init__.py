"""What the app does for each kind of user, in one place: lesson operations and the privacy rules that govern every
figure. Views (dashboard/), the sign-in route and command lines call these; each method runs its own transaction,
so no view opens one. Depends on db and engine types only (never Streamlit or the settings: the caller passes a
Policy built from them)."""
