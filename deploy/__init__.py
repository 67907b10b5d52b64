"""Running the app on proven parts: the HAProxy configuration in front of the app instances (deploy.haproxy)."""
