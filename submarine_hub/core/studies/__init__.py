"""Hyper-parameter tuning studies on Optuna: the spec (:mod:`.spec`), the sampler, pruner
and study state (:mod:`.engine`), trials as runs (:mod:`.trials`) and the study's life
(:mod:`.studies`)."""
