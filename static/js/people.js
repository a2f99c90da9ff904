/* The people section of a room: every edit happens in place, through the rooms API, without a reload.
 *
 * Rename, hide, cover photo, move a face, "not a face", merge: each form in #people also works without
 * this script (a plain POST and a redirect). With it, the edit goes to the API, the section is fetched
 * again and swapped in where it was, and a note in the edited person's card confirms it, with Undo for
 * merges, moves, hiding and "not a face". Selecting cards (the Select box on each) opens a merge bar.
 *
 *   CrowdSwapPeople.refresh()   fetch the section again (rooms.js calls it when photos finish) */
(function () {
  "use strict";

  var selection = []; // identity ids, in the order the host ticked them: the first is the one kept

  function section() {
    return document.getElementById("people");
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function call(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) throw new Error(data.detail || "That did not work (HTTP " + response.status + "). Reload and try again.");
          return data;
        });
    });
  }

  function api(path) {
    return section().getAttribute("data-room-api") + path;
  }

  // ---------------------------------------------------------------- the section, fetched again

  var refreshing = null;
  var deferred = null;

  function midEdit() {
    // The host is typing a name or has a face's menu open: a refresh now would throw that away.
    var people = section();
    if (!people) return false;
    var active = document.activeElement;
    var typing = active && people.contains(active) && active.tagName === "INPUT" && active.value !== active.defaultValue;
    return typing || !!people.querySelector(".face-menu[open]");
  }

  function later() {
    if (deferred) return;
    deferred = window.setTimeout(function () {
      deferred = null;
      refresh(false);
    }, 1500);
  }

  // `fromEdit`: the host's own edit asks for it, so it happens now; photos finishing wait for a quiet moment.
  function refresh(fromEdit) {
    var current = section();
    if (!current) return Promise.resolve();
    if (!fromEdit && midEdit()) {
      later();
      return Promise.resolve();
    }
    if (refreshing) {
      // A fetch already under way may predate the host's edit: let it land, then fetch again.
      return fromEdit
        ? refreshing.then(function () {
            return refresh(true);
          })
        : refreshing;
    }
    refreshing = fetch(current.getAttribute("data-people-url"), { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        refreshing = null;
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("people");
        var now = section();
        if (!fresh || !now) return;
        // The host opened a face's menu or started typing while this was on its way: not now either.
        if (!fromEdit && midEdit()) {
          later();
          return;
        }
        // Keep the page where it is: the section above the viewport must not change the scroll position.
        var before = now.getBoundingClientRect().top;
        // The host's own edit brings its own note; anything else keeps the notes on screen.
        var notes = fromEdit ? [] : shownNotes(now);
        now.replaceWith(fresh);
        keepNotes(fresh, notes);
        var after = fresh.getBoundingClientRect().top;
        if (before !== after) window.scrollBy(0, after - before);
        restoreSelection();
      })
      .catch(function () {
        refreshing = null;
      });
    return refreshing;
  }

  // A refresh (photos finishing, a deferred one) must not take away a note the host is reading, nor its Undo:
  // the note's own node, listener and all, moves into the fresh card.
  function shownNotes(root) {
    var kept = [];
    root.querySelectorAll(".card-note.show").forEach(function (slot) {
      var card = slot.closest("[data-identity]");
      kept.push({ identity: card ? card.getAttribute("data-identity") : null, slot: slot });
    });
    return kept;
  }

  function keepNotes(root, kept) {
    kept.forEach(function (item) {
      var target = item.identity === null ? root : root.querySelector('[data-identity="' + item.identity + '"]');
      if (!target) return; // the person is gone (merged away): so is the note about them
      var empty = item.identity === null ? null : target.querySelector(".card-note");
      if (empty) empty.replaceWith(item.slot);
      else target.insertBefore(item.slot, target.firstChild.nextSibling);
    });
  }

  // ---------------------------------------------------------------- the note next to a card

  function cardOf(identityId) {
    return document.getElementById("identity-" + identityId);
  }

  function note(card, text, undo) {
    var target = card || section();
    var slot = target.querySelector(".card-note");
    if (!slot) {
      slot = document.createElement("p");
      slot.className = "card-note";
      slot.setAttribute("role", "status");
      target.insertBefore(slot, target.firstChild.nextSibling);
    }
    slot.textContent = "";
    slot.appendChild(document.createTextNode(text));
    if (undo) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small undo";
      button.textContent = undo.label || "Undo";
      button.addEventListener("click", function () {
        button.disabled = true;
        undo.run().catch(function (err) {
          slot.textContent = err.message;
          slot.classList.add("error");
        });
      });
      slot.appendChild(button);
    }
    slot.classList.remove("error");
    slot.classList.add("show");
    target.classList.remove("just-edited");
    void target.offsetWidth;
    target.classList.add("just-edited");
    // The note is what the host needs to see: bring it on screen, clear of the sticky header and the merge bar.
    if (slot.scrollIntoView) slot.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function failed(card, err) {
    note(card, err.message);
    var slot = (card || section()).querySelector(".card-note");
    if (slot) slot.classList.add("error");
  }

  // ---------------------------------------------------------------- edits

  function undoEdit(edit, done) {
    return {
      run: function () {
        return call("POST", edit.undo_url).then(function (body) {
          return refresh(true).then(function () {
            var card = cardOf(body.identities[0]);
            note(card, done);
          });
        });
      },
    };
  }

  function rename(form, card) {
    var input = form.querySelector("input[name=name]");
    return call("PATCH", api("identities/" + card.getAttribute("data-identity") + "/"), { name: input.value }).then(
      function (identity) {
        return refresh(true).then(function () {
          note(cardOf(identity.id), identity.name ? "Saved: this is " + identity.name + "." : "Name cleared.");
        });
      }
    );
  }

  function hide(form, card) {
    var id = card.getAttribute("data-identity");
    var hidden = form.querySelector("input[name=hidden]").value === "1";
    return call("PATCH", api("identities/" + id + "/"), { hidden: hidden }).then(function () {
      return refresh(true).then(function () {
        note(cardOf(id), hidden ? "Hidden from swaps and albums." : "Back in swaps and albums.", {
          label: "Undo",
          run: function () {
            return call("PATCH", api("identities/" + id + "/"), { hidden: !hidden }).then(function () {
              return refresh(true).then(function () {
                note(cardOf(id), hidden ? "Back in swaps and albums." : "Hidden from swaps and albums.");
              });
            });
          },
        });
      });
    });
  }

  function cover(form, card) {
    var id = card.getAttribute("data-identity");
    var face = Number(form.querySelector("input[name=face]").value);
    return call("PATCH", api("identities/" + id + "/"), { cover: face }).then(function () {
      return refresh(true).then(function () {
        note(cardOf(id), "Cover photo changed.");
      });
    });
  }

  function move(form, card) {
    var face = form.closest("[data-face]").getAttribute("data-face");
    var choice = form.querySelector("select").value;
    var target = choice === "new" ? null : Number(choice);
    var from = card.getAttribute("data-identity");
    var targetName = form.querySelector("select").selectedOptions[0].textContent;
    return call("POST", api("faces/" + face + "/move/"), { identity: target }).then(function (identity) {
      return refresh(true).then(function () {
        // The note goes where the host is looking: the card the face left, unless it is gone.
        var source = cardOf(from);
        var text = target === null ? "Moved a face out into " + identity.display_name + "." : "Moved a face to " + targetName + ".";
        note(source || cardOf(identity.id), text, undoEdit(identity.edit, "Move undone: the face is back."));
      });
    });
  }

  function ignore(form, card) {
    var face = form.closest("[data-face]").getAttribute("data-face");
    var id = card.getAttribute("data-identity");
    return call("POST", api("faces/" + face + "/ignore/"), { ignored: true }).then(function () {
      return refresh(true).then(function () {
        note(cardOf(id), "Marked as not a face.", {
          run: function () {
            return call("POST", api("faces/" + face + "/ignore/"), { ignored: false }).then(function (restored) {
              return refresh(true).then(function () {
                note(cardOf(restored.identity), "Face restored.");
              });
            });
          },
        });
      });
    });
  }

  function restore(form) {
    var face = form.closest("[data-face]").getAttribute("data-face");
    return call("POST", api("faces/" + face + "/ignore/"), { ignored: false }).then(function (restored) {
      return refresh(true).then(function () {
        note(cardOf(restored.identity), "Face restored.");
      });
    });
  }

  function merge() {
    var ids = selection.slice();
    return call("POST", api("identities/merge/"), { identities: ids }).then(function (identity) {
      selection = [];
      return refresh(true).then(function () {
        note(
          cardOf(identity.id),
          "Merged " + ids.length + " people into " + identity.display_name + ".",
          undoEdit(identity.edit, "Merge undone: they are separate again.")
        );
      });
    });
  }

  var ACTIONS = { rename: rename, hide: hide, cover: cover, move: move, ignore: ignore, restore: restore };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var people = section();
    if (!people || !people.contains(form)) return;
    if (form.id === "merge-form") {
      event.preventDefault();
      if (selection.length < 2) return;
      setBusy(document.getElementById("merge-bar"), true);
      merge().catch(function (err) {
        setBusy(document.getElementById("merge-bar"), false);
        failed(cardOf(selection[0]), err);
      });
      return;
    }
    var action = ACTIONS[form.getAttribute("data-action")];
    if (!action) return;
    event.preventDefault();
    var card = form.closest(".identity-card");
    setBusy(form, true);
    action(form, card).catch(function (err) {
      setBusy(form, false);
      failed(card && cardOf(card.getAttribute("data-identity")), err);
    });
  });

  function setBusy(container, busy) {
    if (!container) return;
    var buttons = container.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
  }

  // ---------------------------------------------------------------- selecting people to merge

  function nameOf(id) {
    var card = cardOf(id);
    return card ? card.getAttribute("data-name") : "";
  }

  function named(id) {
    var card = cardOf(id);
    return !!(card && card.querySelector("input[name=name]").value.trim());
  }

  function renderMergeBar() {
    var bar = document.getElementById("merge-bar");
    if (!bar) return;
    selection = selection.filter(function (id) {
      return !!cardOf(id);
    });
    bar.hidden = selection.length === 0;
    var text = document.getElementById("merge-text");
    var button = document.getElementById("merge-button");
    button.disabled = selection.length < 2;
    if (selection.length === 1) {
      text.textContent = "1 selected: select the other cards of " + nameOf(selection[0]) + ".";
      button.textContent = "Merge";
    } else if (selection.length > 1) {
      // Merging keeps the first ticked person, and takes a name from the others if it has none.
      var keeper = selection[0];
      if (!named(keeper)) {
        for (var i = 1; i < selection.length; i++) if (named(selection[i])) keeper = selection[i];
      }
      text.textContent = selection.length + " selected";
      button.textContent = "Merge into " + nameOf(keeper);
    }
    var boxes = section().querySelectorAll("[data-select]");
    for (var k = 0; k < boxes.length; k++) {
      var card = boxes[k].closest(".identity-card");
      card.classList.toggle("is-selected", boxes[k].checked);
    }
    document.body.classList.toggle("has-merge-bar", selection.length > 0);
  }

  function restoreSelection() {
    var boxes = section() ? section().querySelectorAll("[data-select]") : [];
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = selection.indexOf(Number(boxes[i].value)) >= 0;
    renderMergeBar();
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select]")) return;
    var id = Number(box.value);
    selection = selection.filter(function (other) {
      return other !== id;
    });
    if (box.checked) selection.push(id);
    renderMergeBar();
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-menu]");
    if (close) close.closest("details").removeAttribute("open");
    if (event.target.id === "merge-clear") {
      selection = [];
      restoreSelection();
    }
    // One face menu open at a time.
    var summary = event.target.closest && event.target.closest(".face-menu > summary");
    if (summary) {
      var menus = document.querySelectorAll(".face-menu[open]");
      for (var i = 0; i < menus.length; i++) if (menus[i] !== summary.parentNode) menus[i].removeAttribute("open");
    }
  });

  document.addEventListener("DOMContentLoaded", restoreSelection);

  window.CrowdSwapPeople = {
    refresh: function () {
      return refresh(false);
    },
  };
})();
