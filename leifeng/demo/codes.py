"""The demo's audit actions (what seed_demo and gen_scale record)."""

from enum import StrEnum


class AuditAction(StrEnum):
    DEMO_SEED = "demo.seed"
    DEMO_GEN_SCALE = "demo.gen_scale"
