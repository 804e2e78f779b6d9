"""Training with TRL: SFT, SDPO and GRPO, resumable checkpoints, and where jobs run."""
