"""The system around the app: folders, settings files, secrets, logs, crash reports, signals and start-up."""
