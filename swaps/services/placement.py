"""Who goes where: each friend's fit on a crowd's faces, the placement the swap job will make, pins and re-rolls.

Everything here reads stored faces only (their look and expression are in ``quality``, see rooms.services.faces),
never a photo, so the swap form can ask for it in a web request. The swap job builds its inputs with the same
functions (``placement_inputs``), so the preview the host saw is the placement the job starts from.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from crowdswap.lib.errors import ServiceError
from rooms.models import Face, Identity
from swaps.models import CrowdFace, CrowdPhoto, Swap
from swaps.pipeline import faces as pipeline_faces
from swaps.pipeline import fit as pipeline_fit
from swaps.pipeline import matching

# The app's difficulty names and the pipeline's: the smallest crowd face a friend is placed on
# (pipeline.fit.MIN_FACE_PX: easy 48 px, normal and hard 36 px).
PIPELINE_DIFFICULTY = {
    Swap.Difficulty.EASY: "easy",
    Swap.Difficulty.MEDIUM: "normal",
    Swap.Difficulty.HARD: "hard",
}
# Seeds are stored in an IntegerField and typed into URLs: keep them positive 31-bit numbers.
MAX_SEED = 2**31 - 1
# A re-roll tries up to this many seeds, for at most REROLL_SECONDS, for a placement that differs from the one shown
# (each try costs ~1-20 ms). A face that fits a little worse than the one shown comes up for few seeds, and with only
# the faces of 36 px and more to choose from there is often just that one: 24 tries missed it in the swap form's
# browser test.
REROLL_TRIES = 200
REROLL_SECONDS = 1.5
NO_CLEAR_FACE = "no clear, embedded face of this friend to compare"
PREFIX_NO_FACE_FITS = "no crowd face fits: "


def pipeline_difficulty(difficulty: str) -> str:
    """Return the pipeline's name for an app difficulty (refused in words when unknown)."""
    try:
        return PIPELINE_DIFFICULTY[Swap.Difficulty(difficulty)]
    except ValueError:
        raise ServiceError("Choose easy, medium or hard.") from None


# The pipeline's words that mean something only to its authors, as a host reads them.
PLAIN_WORDS = {"below the fit floor": "a poor fit overall", "pinned face refused": "the face you chose does not fit"}


def reason_in_words(reason: str) -> str:
    """Return a pipeline reason as the host reads it: "looks like a man, the friend does not"."""
    if reason.startswith(PREFIX_NO_FACE_FITS):
        reason = reason[len(PREFIX_NO_FACE_FITS) :]
    for jargon, plain in PLAIN_WORDS.items():
        reason = reason.replace(jargon, plain)
    return reason


def reasons_in_words(fit: pipeline_fit.Fit) -> list[str]:
    """Return a fit's reasons as the host reads them."""
    return [reason_in_words(reason) for reason in fit.reasons]


# What the pipeline says of a pair with nothing against it.
NOTHING_AGAINST = ("plausible", "looks alike")


def fit_summary(fit: pipeline_fit.Fit) -> str:
    """Return one line about a fit for the form: its reasons, marked as small beside a good verdict."""
    words = reasons_in_words(fit)
    if fit.verdict == "good" and not set(words) & set(NOTHING_AGAINST):
        return "small differences: " + "; ".join(words)
    return "; ".join(words)


def large_enough(face: CrowdFace, difficulty: str) -> bool:
    """Return whether a crowd face is large enough to take a friend at this (app) difficulty."""
    floor = pipeline_fit.MIN_FACE_PX[pipeline_difficulty(difficulty)]
    return pipeline_fit.size_of(face.quality or {}, face.box) >= floor


def large_enough_faces(faces: Iterable[CrowdFace], difficulty: str) -> list[CrowdFace]:
    """Return the faces large enough to take a friend at this (app) difficulty, in their order."""
    return [face for face in faces if large_enough(face, difficulty)]


def host_counts(faces: Iterable[CrowdFace]) -> dict[str, int]:
    """Return, per difficulty, how many of these faces can take a friend: hosting and large enough for it."""
    hosting = [face for face in faces if face.can_host]
    return {str(difficulty): len(large_enough_faces(hosting, difficulty)) for difficulty in PIPELINE_DIFFICULTY}


def host_faces(crowd: CrowdPhoto) -> list[CrowdFace]:
    """Return the crowd faces that can take a friend, in one fixed order (the form and the job agree on it)."""
    return [face for face in crowd.faces.filter(can_host=True).order_by("id") if face.embedded]


def friend_rows(identity_ids: Sequence[int]) -> dict[int, list[Face]]:
    """Return each person's embedded faces (not ignored), in one fixed order; people without any are left out."""
    rows: dict[int, list[Face]] = {}
    found: QuerySet[Face] = Face.objects.filter(identity_id__in=list(identity_ids), ignored=False).select_related(
        "photo"
    )
    for face in found.order_by("identity_id", "id"):
        if face.identity_id is not None and face.embedded:
            rows.setdefault(face.identity_id, []).append(face)
    return rows


@dataclass
class Inputs:
    """What the placement is computed from: the crowd's hosting faces and each friend's faces, as the pipeline's."""

    crowd: CrowdPhoto
    hosts: list[CrowdFace]
    targets: list[pipeline_faces.Face]
    rows: dict[int, list[Face]]
    friends: dict[int, list[pipeline_faces.Face]]

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.crowd.width, self.crowd.height)

    def index_of(self, crowd_face_id: int) -> int | None:
        """Return the position of a crowd face among the hosts (None when it cannot host)."""
        for index, face in enumerate(self.hosts):
            if face.pk == crowd_face_id:
                return index
        return None


def placement_inputs(crowd: CrowdPhoto, identity_ids: Sequence[int]) -> Inputs:
    """Return the pipeline inputs for these people on this crowd: friends ordered by id, hosts by face id."""
    hosts = host_faces(crowd)
    rows = friend_rows(sorted({int(pk) for pk in identity_ids}))
    return Inputs(
        crowd=crowd,
        hosts=hosts,
        targets=[face.to_pipeline() for face in hosts],
        rows=rows,
        friends={pk: [row.to_pipeline() for row in found] for pk, found in sorted(rows.items())},
    )


@dataclass
class FriendFit:
    """How well one friend fits a crowd: their best face's fit (the verdict the form shows) and every face's."""

    identity: Identity
    best: pipeline_fit.Fit
    on: dict[int, pipeline_fit.Fit]  # crowd face id -> fit on it


@dataclass
class Placed:
    identity: Identity
    face: CrowdFace
    fit: pipeline_fit.Fit
    pinned: bool


@dataclass
class Refusal:
    """A pin the fit does not allow: the friend, the face and why, in words."""

    identity: Identity
    crowd_face_id: int
    reason: str

    @property
    def message(self) -> str:
        return f"{self.identity.display_name} can't go on that face: {self.reason}."


@dataclass
class Preview:
    """The swap form's view of a crowd: every friend's fit, and where the chosen friends would go."""

    crowd: CrowdPhoto
    difficulty: str
    seed: int | None
    hosts: list[CrowdFace]
    friends: list[FriendFit]
    placed: list[Placed] = field(default_factory=list)
    unplaced: dict[int, str] = field(default_factory=dict)  # identity id -> reason in words
    refused: list[Refusal] = field(default_factory=list)
    pins: dict[int, int] = field(default_factory=dict)  # the pins that hold: identity id -> crowd face id

    @property
    def boxed(self) -> list[CrowdFace]:
        """Return the faces the form boxes: those that can take a friend at this difficulty (large enough)."""
        return large_enough_faces(self.hosts, self.difficulty)

    def fit_of(self, identity_id: int) -> FriendFit | None:
        return next((row for row in self.friends if row.identity.pk == identity_id), None)

    def placed_of(self, identity_id: int) -> Placed | None:
        return next((row for row in self.placed if row.identity.pk == identity_id), None)

    def poor_choices(self) -> list[tuple[Identity, str]]:
        """Return the chosen friends who will not be hidden or fit their face poorly, each with the reason."""
        found: list[tuple[Identity, str]] = []
        names = {row.identity.pk: row.identity for row in self.friends}
        for identity_id, reason in self.unplaced.items():
            if identity_id in names:
                found.append((names[identity_id], f"won't be hidden: {reason}"))
        for row in self.placed:
            if row.fit.verdict == "poor":
                found.append((row.identity, "fits poorly: " + "; ".join(row.fit.reasons)))
        order = [row.identity.pk for row in self.friends]
        return sorted(found, key=lambda item: order.index(item[0].pk))

    def placement_key(self) -> tuple[tuple[int, int], ...]:
        """Return who goes on which face, to compare two placements."""
        return tuple(sorted((row.identity.pk, row.face.pk) for row in self.placed))


def _no_fit(reason: str) -> pipeline_fit.Fit:
    return pipeline_fit.Fit(score=0.0, verdict="poor", reasons=[reason], allowed=False, distance=1.0, vetoed=True)


def best_fit(on: Sequence[pipeline_fit.Fit]) -> pipeline_fit.Fit:
    """Return a friend's fit on the crowd: the best face they may go on, else the face that came nearest."""
    allowed = [each for each in on if each.allowed]
    if allowed:
        return max(allowed, key=lambda each: each.score)
    if not on:
        return _no_fit("no face in this crowd can take a friend")
    # A face refused only for its score says more than a higher score refused outright (matching._why_not).
    return max(on, key=lambda each: (not each.vetoed, each.score))


def friend_fits(inputs: Inputs, identities: Sequence[Identity], difficulty: str) -> list[FriendFit]:
    """Return every friend's fit on every hosting face of the crowd, and their best, in the given order."""
    table = matching.fits(
        inputs.friends, inputs.targets, image_size=inputs.image_size, difficulty=pipeline_difficulty(difficulty)
    )
    result = []
    for identity in identities:
        row = table.get(identity.pk)
        if row is None:
            result.append(FriendFit(identity=identity, best=_no_fit(NO_CLEAR_FACE), on={}))
            continue
        on = {face.pk: each for face, each in zip(inputs.hosts, row, strict=True)}
        result.append(FriendFit(identity=identity, best=best_fit(row), on=on))
    return result


def check_pins(
    fits: Sequence[FriendFit], pins: Mapping[int, int], chosen: Sequence[int], hosts: Sequence[CrowdFace]
) -> list[Refusal]:
    """Return the pins the fit refuses; raise ServiceError for pins that make no sense at all.

    The one place pins are judged: the swap form's preview reports the refusals, ``start_swap`` refuses them.
    """
    host_ids = {face.pk for face in hosts}
    by_id = {row.identity.pk: row for row in fits}
    seen: dict[int, int] = {}
    refusals: list[Refusal] = []
    for identity_id, face_id in pins.items():
        row = by_id.get(identity_id)
        if row is None or identity_id not in chosen:
            raise ServiceError("Pin only friends you chose to hide. Reload the form and try again.")
        if face_id not in host_ids:
            raise ServiceError(
                "That face cannot take a friend (too small, turned away or not in this crowd). Choose a boxed face."
            )
        if face_id in seen:
            other = by_id[seen[face_id]].identity.display_name
            raise ServiceError(
                f"{row.identity.display_name} and {other} are pinned to the same face. Choose one face for each."
            )
        seen[face_id] = identity_id
        fit = row.on.get(face_id)
        if fit is None or not fit.allowed:
            reasons = reasons_in_words(fit) if fit is not None else [NO_CLEAR_FACE]
            refusals.append(Refusal(identity=row.identity, crowd_face_id=face_id, reason="; ".join(reasons)))
    return refusals


def parse_pins(text: str) -> dict[int, int]:
    """Return pins written as "identity:face,identity:face" (the form's hidden field and the API's query)."""
    pins: dict[int, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        identity, _, face = part.partition(":")
        if not identity.strip().isdigit() or not face.strip().isdigit():
            raise ServiceError('Pins are written "person id:crowd face id", separated by commas.')
        pins[int(identity)] = int(face)
    return pins


def pins_text(pins: Mapping[int, int]) -> str:
    """Return pins in the form's "identity:face,identity:face" notation."""
    return ",".join(f"{identity}:{face}" for identity, face in sorted(pins.items()))


def preselected(fits: Sequence[FriendFit], hosts: int) -> list[int]:
    """Return the friends the form ticks for a crowd: those with a good fit, best first, no more than it can host."""
    good = sorted((row for row in fits if row.best.verdict == "good"), key=lambda row: -row.best.score)[:hosts]
    kept = {row.identity.pk for row in good}
    return [row.identity.pk for row in fits if row.identity.pk in kept]


def clean_seed(seed: int | None) -> int | None:
    """Return a valid seed (None: the best placement) or refuse it."""
    if seed is None:
        return None
    if not 0 <= int(seed) <= MAX_SEED:
        raise ServiceError(f"The placement seed must be a whole number from 0 to {MAX_SEED}.")
    return int(seed)


@dataclass
class Planner:
    """A crowd and the room's eligible friends, loaded and weighed once; placements under any pins and seed."""

    crowd: CrowdPhoto
    difficulty: str
    inputs: Inputs
    fits: list[FriendFit]

    @classmethod
    def load(cls, *, crowd: CrowdPhoto, difficulty: str, eligible: Sequence[Identity]) -> Planner:
        """Load the crowd's hosting faces and the faces of ``eligible`` (the people the form offers)."""
        pipeline_difficulty(difficulty)
        inputs = placement_inputs(crowd, [identity.pk for identity in eligible])
        return cls(crowd=crowd, difficulty=difficulty, inputs=inputs, fits=friend_fits(inputs, eligible, difficulty))

    @property
    def host_count(self) -> int:
        """Return how many friends the crowd can take at this difficulty: its hosting faces large enough for it."""
        return len(large_enough_faces(self.inputs.hosts, self.difficulty))

    def preselected(self) -> list[int]:
        """Return the friends the form ticks: those with a good fit, best first, no more than the crowd can take."""
        return preselected(self.fits, self.host_count)

    def place(self, identity_ids: Sequence[int], pins: Mapping[int, int] | None, seed: int | None) -> Preview:
        """Return where the chosen friends would go (pins the fit refuses are reported and left out)."""
        seed = clean_seed(seed)
        names = {row.identity.pk: row.identity for row in self.fits}
        chosen = [pk for pk in dict.fromkeys(int(pk) for pk in identity_ids) if pk in names]
        pins = {int(k): int(v) for k, v in (pins or {}).items()}
        refused = check_pins(self.fits, pins, chosen, self.inputs.hosts)
        holding = {k: v for k, v in pins.items() if all(r.identity.pk != k for r in refused)}
        result = Preview(
            crowd=self.crowd,
            difficulty=self.difficulty,
            seed=seed,
            hosts=self.inputs.hosts,
            friends=self.fits,
            refused=refused,
            pins=holding,
        )
        friends = {pk: self.inputs.friends[pk] for pk in sorted(chosen) if pk in self.inputs.friends}
        for pk in chosen:
            if pk not in friends:
                result.unplaced[pk] = NO_CLEAR_FACE
        if not friends:
            return result
        placement = matching.place(
            friends,
            self.inputs.targets,
            image_size=self.inputs.image_size,
            difficulty=pipeline_difficulty(self.difficulty),
            pins={pk: i for pk, face_id in holding.items() if (i := self.inputs.index_of(face_id)) is not None},
            seed=seed,
        )
        for match in placement.matches:
            pk = int(match.identity)
            assert match.fit is not None
            face = self.inputs.hosts[match.target]
            result.placed.append(Placed(names[pk], face, match.fit, pinned=holding.get(pk) == face.pk))
        for key, reason in placement.unplaced.items():
            result.unplaced[int(key)] = reason_in_words(reason)
        result.placed.sort(key=lambda row: chosen.index(row.identity.pk))
        return result

    def reroll(
        self, identity_ids: Sequence[int], pins: Mapping[int, int] | None, seed: int | None, tries: int = REROLL_TRIES
    ) -> tuple[Preview, bool]:
        """Return the placement under a new seed that differs from the one under ``seed``, and whether one was found
        (else the placement shown is the only one that fits about as well)."""
        current = self.place(identity_ids, pins, seed)
        if not current.placed:
            return current, False
        deadline = time.monotonic() + REROLL_SECONDS
        for _ in range(tries):
            if time.monotonic() > deadline:
                break
            candidate = self.place(identity_ids, pins, secrets.randbelow(MAX_SEED))
            if candidate.placement_key() != current.placement_key():
                return candidate, True
        return current, False


def preview(
    *,
    crowd: CrowdPhoto,
    eligible: Sequence[Identity],
    identity_ids: Sequence[int],
    difficulty: str = Swap.Difficulty.MEDIUM,
    pins: Mapping[int, int] | None = None,
    seed: int | None = None,
) -> Preview:
    """Return every eligible friend's fit on the crowd and where the chosen ones would go."""
    planner = Planner.load(crowd=crowd, difficulty=difficulty, eligible=eligible)
    return planner.place(identity_ids, pins, seed)
