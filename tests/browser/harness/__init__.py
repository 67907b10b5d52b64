"""The real-browser harness: headless Chromium students (fake camera, own network namespace) and staff against the
real app. `run` starts a scenario; `scenario` is what runs inside the namespace. The browser tests use it, and so do
benchmarks.browser_capacity and scripts/screenshots.py."""
