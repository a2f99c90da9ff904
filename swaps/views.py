"""HTML pages for the host: crowd photos with their faces boxed, and the swap versions with sharing and boards."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crowdswap.lib.errors import ServiceError
from rooms.access import get_room_for_owner
from rooms.models import Identity, ProcessingStatus, Room
from rooms.views import report_messages
from swaps.access import get_crowd_for_owner, get_swap_for_owner
from swaps.models import CrowdPhoto, Swap
from swaps.serializers import placement_json
from swaps.services import crowds, placement, play, swaps


def _box_style(box: list[float]) -> str:
    """Return CSS that places a box given in image fractions over the displayed image."""
    left, top, width, height = (round(v * 100, 3) for v in box)
    return f"left:{left}%;top:{top}%;width:{width}%;height:{height}%"


def _crop_style(box: list[float]) -> str:
    """Return CSS that shows only the boxed part of the crowd image as an element's background."""
    left, top, width, height = box
    size_x, size_y = 100 / max(width, 1e-6), 100 / max(height, 1e-6)
    pos_x = 100 * left / (1 - width) if width < 1 else 0
    pos_y = 100 * top / (1 - height) if height < 1 else 0
    return f"background-size:{size_x:.2f}% {size_y:.2f}%;background-position:{pos_x:.2f}% {pos_y:.2f}%"


# ---------------------------------------------------------------- crowds


@login_required
@require_GET
def crowd_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the room's crowd photos with their faces boxed, and how many friends each can host."""
    room = get_room_for_owner(request.user, room_id)
    people = crowds.visible_people(room)
    listed = [
        {
            "crowd": crowd,
            "summary": crowds.crowd_summary(crowd_photo=crowd, people=people),
            "faces": [
                {"style": _box_style(crowds.normalised_box(f, crowd.width, crowd.height)), "usable": f.can_host}
                for f in crowd.faces.all()
            ],
        }
        for crowd in CrowdPhoto.objects.filter(room=room).select_related("job")
    ]
    latest = crowds.latest_crowd_photo(room)
    # At the difficulty the host last chose on the swap form: the faces each person could be placed on there.
    difficulty = _form_difficulty(request, room)
    lookalikes = crowds.lookalikes(room=room, difficulty=difficulty)
    people_rows = []
    for i in room.identities.filter(hidden=False):
        found = lookalikes.get(i.pk)
        people_rows.append(
            {
                "identity": i,
                "cover": i.cover_face(),
                "lookalikes": [
                    {
                        "style": _crop_style(crowds.normalised_box(f, latest.width, latest.height)),
                        "verdict": fit.verdict,
                        "reasons": placement.fit_summary(fit),
                    }
                    for f, fit in found.faces
                ]
                if latest and found
                else [],
                "why_none": found.why_none if found else "",
            }
        )
    context = {
        "room": room,
        "crowds": listed,
        "people": people,
        "people_rows": people_rows,
        "latest": latest,
        "difficulty": Swap.Difficulty(difficulty).label,
    }
    return render(request, "swaps/crowds.html", context)


@login_required
@require_POST
def crowd_upload(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_owner(request.user, room_id)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose a crowd photo to upload.")
    else:
        report_messages(request, crowds.add_crowd_photos(room=room, files=files))
    return redirect("swaps:crowds", room.pk)


@login_required
@require_POST
def crowd_delete(request: HttpRequest, room_id: int, crowd_id: int) -> HttpResponse:
    crowds.delete_crowd_photo(crowd_photo=get_crowd_for_owner(request.user, room_id, crowd_id))
    messages.success(request, "Crowd photo deleted.")
    return redirect("swaps:crowds", room_id)


# ---------------------------------------------------------------- swaps (host)


def _swaps_back(room: Room, swap: Swap | None = None) -> HttpResponse:
    return redirect(reverse("swaps:swaps", args=[room.pk]) + (f"#swap-{swap.pk}" if swap else ""))


def _form_key(room: Room) -> str:
    return f"swap-form-{room.pk}"


def _form_difficulty(request: HttpRequest, room: Room) -> str:
    """Return the difficulty the host last chose on the swap form (medium until they choose)."""
    saved = (request.session.get(_form_key(room)) or {}).get("difficulty")
    return saved if saved in Swap.Difficulty.values else Swap.Difficulty.MEDIUM


def _form_choices(request: HttpRequest, room: Room, crowds_: list[CrowdPhoto], eligible: list[Identity]) -> dict:
    """Return the swap form's crowd, friends, difficulty, pins and seed: the host's last choices while they apply.

    ``identities`` is None when the host has made no choice that still applies: the form then ticks the friends
    who fit the crowd well.
    """
    saved = request.session.get(_form_key(room)) or {}
    by_id = {crowd.pk: crowd for crowd in crowds_}
    crowd = by_id.get(saved.get("crowd")) or swaps.best_crowd(crowds_)
    same_crowd = crowd is not None and saved.get("crowd") == crowd.pk
    eligible_ids = [i.pk for i in eligible]
    kept = [pk for pk in saved.get("identities", []) if pk in eligible_ids] if same_crowd else []
    difficulty = (
        saved.get("difficulty") if saved.get("difficulty") in Swap.Difficulty.values else Swap.Difficulty.MEDIUM
    )
    seed = saved.get("seed") if same_crowd and isinstance(saved.get("seed"), int) else None
    return {
        "crowd": crowd,
        "identities": kept or None,
        "difficulty": difficulty,
        "pins": {int(k): int(v) for k, v in (saved.get("pins") or {}).items()} if same_crowd else {},
        "seed": seed,
        "warned": bool(saved.get("warned")) and same_crowd,
    }


def _place_line(row: placement.FriendFit, shown: placement.Preview) -> tuple[str, str]:
    """Return what the form says under a chosen friend about their place in the preview, and its tone."""
    pk = row.identity.pk
    refused = next((r for r in shown.refused if r.identity.pk == pk), None)
    if refused is not None:
        return f"The face you chose does not fit: {refused.reason}.", "warning"
    if pk in shown.unplaced:
        if shown.unplaced[pk] == "; ".join(placement.reasons_in_words(row.best)):
            return "Won't be hidden: no face in this crowd fits them.", "warning"  # the fit line says why
        return f"Won't be hidden: {shown.unplaced[pk]}.", "warning"
    placed = shown.placed_of(pk)
    if placed is None:
        return "", ""
    verdict = placed.fit.verdict
    if placed.pinned:
        return f"Pinned to the face you chose ({verdict} fit there).", "warning" if verdict == "poor" else ""
    if verdict == "poor":
        return "Placed, but the fit is poor: players may spot the swap.", "warning"
    if verdict == row.best.verdict:
        return "Placed on a face that fits them best.", ""
    return f"Placed on a {verdict} face: friends who fit better took the best ones.", ""


def _form_state(
    crowd: CrowdPhoto | None, eligible: list[Identity], choices: dict
) -> tuple[placement.Preview | None, list[int]]:
    """Return the preview of the form's crowd and the friends it ticks (the host's, else those who fit well)."""
    if crowd is None or not eligible:
        return None, []
    planner = placement.Planner.load(crowd=crowd, difficulty=choices["difficulty"], eligible=eligible)
    chosen = choices["identities"]
    if chosen is None:
        chosen = planner.preselected()
    try:
        shown = planner.place(chosen, choices["pins"], choices["seed"])
    except ServiceError:
        # Pins saved for faces or friends that no longer take part: start over without them.
        shown = planner.place(chosen, {}, choices["seed"])
    return shown, chosen


@login_required
@require_GET
def swap_list(request: HttpRequest, room_id: int) -> HttpResponse:
    """Show the swap form (crowd with the placement preview, friends with their fit), every version with progress
    or result and who was left out, sharing and boards."""
    room = get_room_for_owner(request.user, room_id)
    done = swaps.hosting_crowds(room)
    eligible = list(swaps.swappable_identities(room))
    choices = _form_choices(request, room, done, eligible)
    for each in done:
        each.hosts = each.hosts_at[choices["difficulty"]]  # the form opens at the host's last difficulty
    crowd = choices["crowd"]
    shown, chosen = _form_state(crowd, eligible, choices)
    friends = []
    for identity in eligible:
        fitted = shown.fit_of(identity.pk) if shown else None
        line, tone = _place_line(fitted, shown) if fitted and shown and identity.pk in chosen else ("", "")
        friends.append(
            {
                "identity": identity,
                "cover": identity.cover_face(),
                "checked": identity.pk in chosen,
                "fit": fitted.best if fitted else None,
                "summary": placement.fit_summary(fitted.best) if fitted else "",
                "place_line": line,
                "place_tone": tone,
                "pinned": bool(shown and identity.pk in shown.pins),
            }
        )
    hosts = []
    if shown is not None and crowd is not None:
        placed = {row.face.pk: row for row in shown.placed}
        for face in shown.boxed:
            row = placed.get(face.pk)
            hosts.append(
                {
                    "face": face,
                    "style": _box_style(crowds.normalised_box(face, crowd.width, crowd.height)),
                    "placed": row,
                }
            )
    names = {i.pk: i.display_name for i in Identity.objects.filter(room=room)}
    versions = []
    for swap in Swap.objects.filter(room=room).select_related("job", "crowd_photo"):
        share_url = f"{settings.SITE_URL}{reverse('play:page', args=[swap.share_token])}"
        hidden = swap.hidden_identity_ids() if swap.answer_key else [int(i) for i in swap.identity_ids]
        versions.append(
            {
                "swap": swap,
                "crowd_name": (swap.crowd_photo.original_name or "Crowd photo") if swap.crowd_photo else None,
                "friend_names": [names.get(pk, "a friend who was removed") for pk in hidden],
                "unplaced": [
                    {"name": names.get(int(e["identity"]), "A friend who was removed"), "reason": e["reason"]}
                    for e in swap.unplaced or []
                ],
                "unnamed": swaps.unnamed_friends(swap) if swap.status == Swap.Status.DONE else [],
                "share_url": share_url,
                "facebook_url": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": share_url}),
                "answers": [
                    {"name": names.get(e["identity"], "A friend"), "style": _box_style(e["box"])}
                    for e in swap.answer_key
                ],
                "leaderboard": play.leaderboard(swap) if swap.status == Swap.Status.DONE else [],
            }
        )
    context = {
        "room": room,
        "crowds": done,
        "latest": done[0] if done else None,
        "choices": choices,
        "difficulties": Swap.Difficulty.choices,
        "friends": friends,
        "hosts": hosts,
        "preview": shown,
        "pins_text": placement.pins_text(shown.pins) if shown else "",
        "placement_state": placement_json(shown, chosen) if shown else None,
        "versions": versions,
    }
    return render(request, "swaps/room_swaps.html", context)


def _poor_warning(shown: placement.Preview) -> str:
    """Return the warning for chosen friends who will not be hidden or fit poorly ("" when there are none):
    one sentence per reason, "Angie and Jen won't be hidden: looks like a man, the friend does not."."""
    grouped: dict[str, list[str]] = {}
    for identity, why in shown.poor_choices():
        grouped.setdefault(why.split("; ")[0], []).append(identity.display_name)
    if not grouped:
        return ""
    sentences = []
    for why, names in grouped.items():
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        if len(names) > 1:
            why = why.replace("fits poorly", "fit poorly")
        sentences.append(f"{who} {why}.")
    spotted = any(why.startswith("fits poorly") for _, why in shown.poor_choices())
    return (
        "Not started yet: "
        + " ".join(sentences)
        + (" Players may spot a poor fit." if spotted else "")
        + " Untick them, or press Start anyway."
    )


@login_required
@require_POST
def swap_start(request: HttpRequest, room_id: int) -> HttpResponse:
    """Start a new swap version with the ticked friends, the chosen crowd photo, difficulty, pins and seed.

    Friends who would not be hidden or fit poorly are named first; "Start anyway" starts all the same.
    """
    room = get_room_for_owner(request.user, room_id)
    crowd = request.POST.get("crowd", "")
    ids = [int(i) for i in request.POST.getlist("identities") if i.isdigit()]
    difficulty = request.POST.get("difficulty", Swap.Difficulty.MEDIUM)
    seed_text = request.POST.get("seed", "").strip()
    try:
        pins = placement.parse_pins(request.POST.get("pins", ""))
    except ServiceError:
        pins = {}
    seed = int(seed_text) if seed_text.isdigit() else None
    # The form shows these choices again, whether the swap starts or not.
    form = {
        "crowd": int(crowd) if crowd.isdigit() else None,
        "identities": ids,
        "difficulty": difficulty,
        "pins": {str(k): v for k, v in pins.items()},
        "seed": seed,
    }
    request.session[_form_key(room)] = form
    if not crowd.isdigit():
        messages.error(request, "Choose a crowd photo first.")
        return _swaps_back(room)
    try:
        chosen_crowd = CrowdPhoto.objects.filter(room=room, pk=int(crowd), status=ProcessingStatus.DONE).first()
        if request.POST.get("anyway") != "1" and chosen_crowd is not None:
            eligible = list(swaps.swappable_identities(room))
            shown = placement.preview(
                crowd=chosen_crowd, eligible=eligible, identity_ids=ids, difficulty=difficulty, pins=pins, seed=seed
            )
            # A choice nobody fits, or a refused pin, gets start_swap's own refusal instead.
            warning = _poor_warning(shown) if shown.placed and not shown.refused else ""
            if warning:
                request.session[_form_key(room)] = {**form, "warned": True}
                messages.warning(request, warning)
                return _swaps_back(room)
        swap = swaps.start_swap(
            room=room, crowd_photo_id=int(crowd), identity_ids=ids, difficulty=difficulty, pins=pins, seed=seed
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _swaps_back(room)
    messages.success(request, f"Version {swap.version} is being swapped: progress shows below.")
    return _swaps_back(room, swap)


@login_required
@require_POST
def swap_action(request: HttpRequest, room_id: int, swap_id: int, action: str) -> HttpResponse:
    """Publish, unpublish, give a new link to, or discard one swap version."""
    swap = get_swap_for_owner(request.user, room_id, swap_id)
    room = swap.room
    try:
        if action == "publish":
            unnamed = swaps.unnamed_friends(swap)
            if unnamed and request.POST.get("anyway") != "1":
                # Players would be asked to find "Person 9": say so, and share only when the host insists.
                messages.warning(
                    request,
                    f"Not shared yet: {', '.join(unnamed)} {'has' if len(unnamed) == 1 else 'have'} no name, so "
                    "players would look for a number. Name them on Photos & people, or press Share anyway.",
                )
                return _swaps_back(room, swap)
            swaps.publish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is shared: copy its link below.")
        elif action == "unpublish":
            swaps.unpublish_swap(swap=swap)
            messages.success(request, f"Version {swap.version} is closed: its link says so now.")
        elif action == "regenerate":
            swaps.regenerate_share_token(swap=swap)
            messages.success(request, "New link made: the old one no longer works.")
        elif action == "discard":
            swaps.discard_swap(swap=swap)
            messages.success(request, f"Version {swap.version} deleted.")
            return _swaps_back(room)
        else:
            raise Http404("Unknown action.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _swaps_back(room, swap)
