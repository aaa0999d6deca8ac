"""What the slides list as not covered: callbacks, weight initialisation, autoencoders, anomaly detection on jets, alternative libraries."""
