"""Library code of the self-distillation pipeline: worlds, models, generation, metrics, stages."""
