"""Tables, figures and findings: what the runs show, and which of the study's claims hold."""
