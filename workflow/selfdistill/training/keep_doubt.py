"""SDPO that cannot suppress doubt: the teacher's signal leaves the student's probability of
starting an epistemic word untouched.

At each completion position let D be the tokens that start one of the epistemic words, q the
student's distribution and p the teacher's. The divergence is taken between the two
distributions renormalized over the tokens outside D (D's logits pushed far below every other
logit in both), and the position is weighted by the student's own 1 - q(D), detached. The loss
then depends on the student only through its shape outside D, so its derivative with respect to
q(D) at a fixed shape is zero for every divergence SDPO offers (forward, reverse, the alpha
mixture), in every distillation mode; where D has no mass it is plain SDPO's loss. The weight is
the one the chain rule of the forward KL gives the part outside D: a position where the student
is about to doubt anyway gets little pull on what it would say instead.

Matching a separate D bucket to the student's own value, the obvious alternative, is exact only
for the forward KL: for the mixture (the default alpha 0.5) and the reverse KL the within-rest
term carries a (1 - q(D)) factor whose derivative does not vanish.
"""
from __future__ import annotations

import dataclasses
import functools

import torch

from selfdistill.evaluation.metrics import EPISTEMIC_WORDS

# how far below the smallest logit the doubt tokens are put: e^-80 of the mass is none, and the
# values stay small enough that float32 differences of log-probs keep their precision
FLOOR = 80.0


def doubt_start_ids(tokenizer, words=EPISTEMIC_WORDS) -> list[int]:
    """Ids of the first token of each word as a model would write it: lower, Capitalized and
    UPPER case, with and without a leading space. A first token counts only when it spells at
    least three letters of the word (or all of a shorter one), so that a BPE piece such as "w"
    or " h", which starts many other words, is not taken for doubt; unknown and special tokens
    never count."""
    excluded = {tokenizer.unk_token_id, *tokenizer.all_special_ids}
    ids = set()
    for word in words:
        for variant in (word.lower(), word.capitalize(), word.upper()):
            for spaced in (variant, " " + variant):
                pieces = tokenizer.encode(spaced, add_special_tokens=False)
                if not pieces or pieces[0] in excluded:
                    continue
                start = tokenizer.decode(pieces[:1]).strip()
                if len(start) >= min(3, len(word)) and variant.startswith(start):
                    ids.add(pieces[0])
    if not ids:
        raise ValueError(f"the tokenizer spells none of the epistemic words {', '.join(words)} with a token "
                         "of its own; SDPO that keeps doubt has nothing to keep")
    return sorted(ids)


def keep_doubt(logits, inputs: dict, doubt_ids: torch.Tensor, mode: str):
    """`logits` (TRL's DistillationLogits) and `inputs` rewritten so that TRL's distillation loss
    on them is the doubt-keeping one. The student's log-probs at rollout time are shifted by what
    the renormalization adds to the current ones, so the importance-sampling ratio stays the
    ratio of the real distributions."""
    student, teacher = logits.student_logits, logits.teacher_logits
    ids = doubt_ids.to(student.device)
    detached = student.detach()
    lse = torch.logsumexp(detached, -1)
    weight = -torch.expm1(torch.logsumexp(detached.index_select(-1, ids), -1) - lse)  # 1 - q(D)
    floor = torch.minimum(detached.amin(), teacher.amin()) - FLOOR
    kept_student = student.index_fill(-1, ids, floor)
    kept_teacher = teacher.index_fill(-1, ids, floor)
    mask = logits.loss_mask * weight
    if mode == "sampled_token":  # the sampled token's own log-prob is the signal: none on a doubt token
        mask = mask * ~torch.isin(logits.completion_ids, ids)
    old = inputs.get("old_per_token_logps")
    if old is not None:
        chosen = logits.completion_ids.unsqueeze(-1)
        shift = (kept_student.detach().gather(-1, chosen).squeeze(-1) - torch.logsumexp(kept_student.detach(), -1)
                 - detached.gather(-1, chosen).squeeze(-1) + lse)
        inputs = {**inputs, "old_per_token_logps": old + shift}
    return dataclasses.replace(logits, student_logits=kept_student, teacher_logits=kept_teacher,
                               loss_mask=mask), inputs


@functools.cache
def keep_doubt_trainer():
    """SDPOTrainer whose distillation loss keeps doubt, for the doubt words of its tokenizer."""
    from trl.experimental.sdpo import SDPOTrainer

    class KeepDoubtSDPOTrainer(SDPOTrainer):
        @functools.cached_property
        def doubt_ids(self) -> torch.Tensor:
            return torch.tensor(doubt_start_ids(self.processing_class))

        def _compute_self_distillation_loss(self, model, inputs, distillation_logits):
            kept, inputs = keep_doubt(distillation_logits, inputs, self.doubt_ids, self.args.distillation_mode)
            return super()._compute_self_distillation_loss(model, inputs, kept)

    return KeepDoubtSDPOTrainer
