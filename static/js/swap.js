/* The host's swap page: live progress of running versions, reveal overlay, copy / Web Share, live leaderboards. */
(function () {
  "use strict";

  var root = document.getElementById("swaps");
  if (!root) return;

  // Progress: jobs.js pushes each swap job's state; when one finishes the page reloads to show the result.
  var running = root.querySelectorAll('.swap-version[data-status="queued"], .swap-version[data-status="running"]');
  if (running.length && window.CrowdSwapJobs) {
    var byJob = {};
    for (var i = 0; i < running.length; i++) {
      var jobId = running[i].getAttribute("data-job-id");
      if (jobId) {
        byJob[jobId] = running[i];
        window.CrowdSwapJobs.track(jobId);
      }
    }
    window.CrowdSwapJobs.watchRoom(root.getAttribute("data-room-id"), function (job) {
      var card = byJob[job.id];
      if (!card) return;
      var bar = card.querySelector(".progress .bar");
      var stage = card.querySelector(".job-stage");
      if (bar) bar.style.width = (job.progress || 0) + "%";
      if (bar) bar.parentNode.setAttribute("aria-valuenow", String(job.progress || 0));
      if (stage) stage.textContent = job.error || job.stage || "";
      if (job.status === "done" || job.status === "failed") {
        delete byJob[job.id];
        window.location.hash = card.id;
        window.location.reload();
      }
    });
  }

  // The form: the crowd with the placement preview (who goes on which face), each friend's fit for it, pins by
  // clicking a boxed face, re-rolls, and a warning before starting with a friend who fits poorly. The server
  // renders the first state; every change asks the placement API (stored faces only: fast) and redraws.
  var form = document.getElementById("swap-form");
  if (form) setUpForm(form);

  function setUpForm(form) {
    var crowd = document.getElementById("swap-crowd");
    var difficulty = document.getElementById("swap-difficulty");
    var hostsNote = document.getElementById("crowd-hosts");
    var preview = document.getElementById("crowd-preview");
    var figure = document.getElementById("placement-figure");
    var scroller = document.getElementById("placement-scroll");
    var boxes = document.getElementById("host-boxes");
    var note = document.getElementById("placement-note");
    var panel = document.getElementById("face-panel");
    var choicesList = document.getElementById("face-choices");
    var faceCrop = document.getElementById("face-crop");
    var picked = document.getElementById("picked-count");
    var tooMany = document.getElementById("too-many");
    var start = document.getElementById("start-swap");
    var poorBox = document.getElementById("poor-warning");
    var poorText = document.getElementById("poor-warning-text");
    var pinsInput = document.getElementById("swap-pins");
    var seedInput = document.getElementById("swap-seed");
    var rerollButton = document.getElementById("reroll");
    var zoomButton = document.getElementById("zoom");
    var stateNode = document.getElementById("placement-state");
    var state = stateNode ? JSON.parse(stateNode.textContent) : null;
    var apiTemplate = form.getAttribute("data-placement-api");
    var touched = false; // the host ticked or unticked someone: crowd and difficulty changes keep their choice
    var selectedFace = null;
    var asked = 0;

    var checkboxes = function () {
      return Array.prototype.slice.call(form.querySelectorAll('input[name="identities"]'));
    };
    var ticked = function () {
      return checkboxes()
        .filter(function (box) {
          return box.checked;
        })
        .map(function (box) {
          return Number(box.value);
        });
    };
    var friendOf = function (id) {
      if (!state) return null;
      for (var i = 0; i < state.friends.length; i++) if (state.friends[i].identity === id) return state.friends[i];
      return null;
    };
    var find = function (list, id) {
      for (var i = 0; i < list.length; i++) if (list[i].identity === id) return list[i];
      return null;
    };
    var placedOn = function (faceId) {
      for (var i = 0; i < state.placement.length; i++) if (state.placement[i].crowd_face === faceId) return state.placement[i];
      return null;
    };
    var pins = function () {
      return state ? state.pins : {};
    };
    var say = function (text, tone) {
      note.textContent = text || "";
      note.className = "small placement-note" + (tone ? " tone-" + tone : "");
    };
    var plural = function (n, one, many) {
      return n + " " + (n === 1 ? one : many);
    };

    var crowdOption = function () {
      return crowd.options[crowd.selectedIndex];
    };

    // How many friends a crowd can host at the chosen difficulty: its faces large enough for it.
    var hostsOf = function (option) {
      var atDifficulty = option.getAttribute("data-hosts-" + difficulty.value);
      return Number(atDifficulty === null ? option.getAttribute("data-hosts") : atDifficulty);
    };

    // The "can host N" hint (and each crowd's), the count of chosen friends and the too-many warning.
    var followCounts = function () {
      var option = crowdOption();
      var hosts = hostsOf(option);
      Array.prototype.forEach.call(crowd.options, function (each) {
        if (each.hasAttribute("data-name")) each.textContent = each.getAttribute("data-name") + " — can host " + hostsOf(each);
      });
      var count = ticked().length;
      hostsNote.textContent = "This crowd can host " + plural(hosts, "friend.", "friends.");
      picked.textContent = "— " + count + " chosen, this crowd can host " + hosts;
      tooMany.hidden = count <= hosts;
      tooMany.textContent =
        "This crowd can host " + plural(hosts, "friend", "friends") + " and you chose " + count +
        ": untick some, or choose a crowd that can host more.";
      start.disabled = count === 0 || count > hosts;
    };

    var drawBoxes = function () {
      while (boxes.firstChild) boxes.removeChild(boxes.firstChild);
      if (!state) return;
      state.hosts.forEach(function (host) {
        var button = document.createElement("button");
        var placed = placedOn(host.id);
        button.type = "button";
        button.className = "host-box" + (placed ? " placed fit-" + placed.verdict : "") +
          (placed && placed.pinned ? " pinned" : "") + (selectedFace === host.id ? " selected" : "");
        button.setAttribute("data-face", String(host.id));
        button.style.left = host.box[0] * 100 + "%";
        button.style.top = host.box[1] * 100 + "%";
        button.style.width = host.box[2] * 100 + "%";
        button.style.height = host.box[3] * 100 + "%";
        button.setAttribute(
          "aria-label",
          (placed ? placed.name + " goes on this face" + (placed.pinned ? " (pinned)" : "") : "A face that can take a friend") +
            ": choose who goes here"
        );
        if (placed) {
          var label = document.createElement("span");
          label.className = "host-label";
          label.textContent = placed.name;
          button.appendChild(label);
        }
        boxes.appendChild(button);
      });
    };

    var placeLine = function (friend, id) {
      var refused = find(state.refused, id);
      if (refused) return ["The face you chose does not fit: " + refused.reason + ".", "warning"];
      var left = find(state.unplaced, id);
      if (left && friend && left.reason === friend.reasons.join("; ")) return ["Won't be hidden: no face in this crowd fits them.", "warning"];
      if (left) return ["Won't be hidden: " + left.reason + ".", "warning"];
      var placed = find(state.placement, id);
      if (!placed) return ["", ""];
      if (placed.pinned) {
        return ["Pinned to the face you chose (" + placed.verdict + " fit there).", placed.verdict === "poor" ? "warning" : ""];
      }
      if (placed.verdict === "poor") return ["Placed, but the fit is poor: players may spot the swap.", "warning"];
      if (friend && placed.verdict === friend.verdict) return ["Placed on a face that fits them best.", ""];
      return ["Placed on a " + placed.verdict + " face: friends who fit better took the best ones.", ""];
    };

    var drawFriends = function () {
      var chosen = ticked();
      Array.prototype.forEach.call(form.querySelectorAll(".friend-row"), function (row) {
        var id = Number(row.getAttribute("data-identity"));
        var friend = friendOf(id);
        var line = row.querySelector(".fit-line");
        var place = row.querySelector(".place-line");
        var unpin = row.querySelector(".unpin");
        while (line.firstChild) line.removeChild(line.firstChild);
        if (friend) {
          row.setAttribute("data-verdict", friend.verdict);
          var badge = document.createElement("span");
          badge.className = "badge fit-" + friend.verdict;
          badge.textContent = friend.verdict.charAt(0).toUpperCase() + friend.verdict.slice(1) + " fit";
          var why = document.createElement("span");
          why.className = "fit-reasons";
          why.textContent = friend.summary;
          line.appendChild(badge);
          line.appendChild(document.createTextNode(" "));
          line.appendChild(why);
        }
        var said = chosen.indexOf(id) >= 0 ? placeLine(friend, id) : ["", ""];
        place.textContent = said[0];
        place.hidden = !said[0];
        place.className = "place-line" + (said[1] ? " tone-" + said[1] : "");
        unpin.hidden = !(String(id) in pins());
      });
    };

    var draw = function () {
      drawBoxes();
      drawFriends();
      followCounts();
      var text = [];
      Object.keys(pins()).forEach(function (id) {
        text.push(id + ":" + pins()[id]);
      });
      pinsInput.value = text.join(",");
      seedInput.value = state && state.seed !== null ? String(state.seed) : "";
      if (selectedFace !== null) openPanel(selectedFace);
    };

    // Ask the placement API for the form's current choices; a newer question wins over an older answer.
    var refresh = function (options) {
      options = options || {};
      var id = crowd.value;
      var params = new URLSearchParams();
      params.set("difficulty", difficulty.value);
      if (touched || options.keepTicks) params.set("identities", ticked().join(","));
      var pinned = options.pins || pins();
      params.set(
        "pins",
        Object.keys(pinned)
          .filter(function (key) {
            return ticked().indexOf(Number(key)) >= 0;
          })
          .map(function (key) {
            return key + ":" + pinned[key];
          })
          .join(",")
      );
      var seed = options.seed !== undefined ? options.seed : state ? state.seed : null;
      if (seed !== null && seed !== undefined) params.set("seed", String(seed));
      if (options.reroll) params.set("reroll", "true");
      var number = ++asked;
      form.classList.add("is-busy");
      return fetch(apiTemplate.replace("/crowds/0/", "/crowds/" + id + "/") + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          if (number !== asked) return null;
          form.classList.remove("is-busy");
          if (!answer.ok) {
            say(answer.body.detail || "That did not work. Reload the page and try again.", "warning");
            return null;
          }
          state = answer.body;
          if (!touched && !options.keepTicks) {
            checkboxes().forEach(function (box) {
              box.checked = state.chosen.indexOf(Number(box.value)) >= 0;
            });
          }
          poorBox.hidden = true;
          draw();
          return state;
        })
        .catch(function () {
          if (number !== asked) return;
          form.classList.remove("is-busy");
          say("Could not reach CrowdSwap to update the preview. Check your connection.", "warning");
        });
    };

    // The face panel: who may go on the face the host clicked, each with their fit there.
    var cropStyle = function (box) {
      var sizeX = 100 / Math.max(box[2], 1e-6);
      var sizeY = 100 / Math.max(box[3], 1e-6);
      var posX = box[2] < 1 ? (100 * box[0]) / (1 - box[2]) : 0;
      var posY = box[3] < 1 ? (100 * box[1]) / (1 - box[3]) : 0;
      faceCrop.style.backgroundImage = "url('" + preview.getAttribute("src") + "')";
      faceCrop.style.backgroundSize = sizeX.toFixed(2) + "% " + sizeY.toFixed(2) + "%";
      faceCrop.style.backgroundPosition = posX.toFixed(2) + "% " + posY.toFixed(2) + "%";
    };

    var closePanel = function () {
      selectedFace = null;
      panel.hidden = true;
      var selected = boxes.querySelector(".host-box.selected");
      if (selected) selected.classList.remove("selected");
    };

    function openPanel(faceId) {
      var host = null;
      for (var i = 0; i < state.hosts.length; i++) if (state.hosts[i].id === faceId) host = state.hosts[i];
      if (!host) return closePanel();
      selectedFace = faceId;
      Array.prototype.forEach.call(boxes.querySelectorAll(".host-box"), function (box) {
        box.classList.toggle("selected", Number(box.getAttribute("data-face")) === faceId);
      });
      cropStyle(host.box);
      while (choicesList.firstChild) choicesList.removeChild(choicesList.firstChild);
      var chosen = ticked();
      var here = placedOn(faceId);
      if (!chosen.length) {
        var empty = document.createElement("li");
        empty.className = "muted small";
        empty.textContent = "Tick the friends to hide first.";
        choicesList.appendChild(empty);
      }
      chosen.forEach(function (id) {
        var friend = friendOf(id);
        if (!friend) return;
        var fit = null;
        for (var j = 0; j < friend.faces.length; j++) if (friend.faces[j].crowd_face === faceId) fit = friend.faces[j];
        if (!fit) return;
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small face-choice";
        button.setAttribute("data-pin", String(id));
        if (!fit.allowed) button.setAttribute("aria-disabled", "true");
        var name = document.createElement("span");
        name.textContent = friend.name + (here && here.identity === id ? " (goes here now)" : "");
        var badge = document.createElement("span");
        badge.className = "badge fit-" + fit.verdict;
        badge.textContent = fit.allowed ? fit.verdict.charAt(0).toUpperCase() + fit.verdict.slice(1) + " fit" : "Can't go here";
        var why = document.createElement("span");
        why.className = "why";
        why.textContent = fit.summary;
        button.appendChild(name);
        button.appendChild(badge);
        button.appendChild(why);
        item.appendChild(button);
        choicesList.appendChild(item);
      });
      if (here && here.pinned) {
        var release = document.createElement("li");
        var free = document.createElement("button");
        free.type = "button";
        free.className = "button small ghost";
        free.setAttribute("data-unpin", String(here.identity));
        free.textContent = "Let CrowdSwap choose for " + here.name;
        release.appendChild(free);
        choicesList.appendChild(release);
      }
      panel.hidden = false;
    }

    var pin = function (id, faceId) {
      var friend = friendOf(id);
      var fit = null;
      for (var j = 0; j < friend.faces.length; j++) if (friend.faces[j].crowd_face === faceId) fit = friend.faces[j];
      if (!fit || !fit.allowed) {
        say(friend.name + " can't go on that face: " + (fit ? fit.reasons.join("; ") : "it cannot take a friend") + ".", "warning");
        return;
      }
      var next = {};
      Object.keys(pins()).forEach(function (key) {
        if (Number(key) !== id && pins()[key] !== faceId) next[key] = pins()[key];
      });
      next[String(id)] = faceId;
      touched = true; // a pin is a choice of who to hide too: later changes keep the ticks
      refresh({ pins: next, keepTicks: true }).then(function (answer) {
        if (!answer) return;
        var refused = find(answer.refused, id);
        if (refused) say(refused.detail, "warning");
        else say(friend.name + " is pinned to this face: the others are placed around them.");
        closePanel();
      });
    };

    var unpinFriend = function (id) {
      var next = {};
      Object.keys(pins()).forEach(function (key) {
        if (Number(key) !== id) next[key] = pins()[key];
      });
      var friend = friendOf(id);
      refresh({ pins: next, keepTicks: true }).then(function (answer) {
        if (answer) say((friend ? friend.name : "The friend") + " is placed by fit again.");
      });
    };

    boxes.addEventListener("click", function (event) {
      var box = event.target.closest(".host-box");
      if (!box || !state) return;
      var faceId = Number(box.getAttribute("data-face"));
      if (selectedFace === faceId) return closePanel();
      openPanel(faceId);
      // On a phone the panel sits under the picture: bring it on screen without losing the picture.
      panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
    panel.addEventListener("click", function (event) {
      var choice = event.target.closest("[data-pin]");
      if (choice) pin(Number(choice.getAttribute("data-pin")), selectedFace);
      var free = event.target.closest("[data-unpin]");
      if (free) {
        unpinFriend(Number(free.getAttribute("data-unpin")));
        closePanel();
      }
    });
    document.getElementById("face-panel-close").addEventListener("click", closePanel);
    form.addEventListener("click", function (event) {
      var unpin = event.target.closest(".friend-row .unpin");
      if (unpin) unpinFriend(Number(unpin.getAttribute("data-unpin")));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden) closePanel();
    });

    rerollButton.addEventListener("click", function () {
      var before = state ? state.placement.map(function (p) { return p.identity + ":" + p.crowd_face; }).join(",") : "";
      refresh({ reroll: true, keepTicks: true }).then(function (answer) {
        if (!answer) return;
        if (!answer.rerolled) {
          say(answer.detail || "No other placement fits about as well.");
          return;
        }
        var moved = answer.placement.filter(function (p) {
          return before.split(",").indexOf(p.identity + ":" + p.crowd_face) < 0;
        }).length;
        say("New placement: " + plural(moved, "friend moved", "friends moved") + " to faces that fit about as well.");
      });
    });

    zoomButton.addEventListener("click", function () {
      var zoomed = figure.classList.toggle("zoomed");
      zoomButton.setAttribute("aria-pressed", zoomed ? "true" : "false");
      zoomButton.textContent = zoomed ? "Zoom out" : "Zoom in";
      // Keep the placed friends in view: scroll to the middle of their boxes.
      var placed = boxes.querySelectorAll(".host-box.placed");
      if (zoomed && placed.length) {
        var first = placed[0].getBoundingClientRect();
        var frame = scroller.getBoundingClientRect();
        scroller.scrollLeft += first.left - frame.left - frame.width / 2 + first.width / 2;
        scroller.scrollTop += first.top - frame.top - frame.height / 2 + first.height / 2;
      }
    });

    crowd.addEventListener("change", function () {
      var option = crowdOption();
      preview.src = option.getAttribute("data-image");
      preview.setAttribute("width", option.getAttribute("data-width"));
      preview.setAttribute("height", option.getAttribute("data-height"));
      closePanel();
      say("");
      // Pins and the re-roll belong to the crowd they were made on.
      refresh({ pins: {}, seed: null, keepTicks: touched });
    });
    difficulty.addEventListener("change", function () {
      say("");
      refresh({ keepTicks: touched });
    });
    form.addEventListener("change", function (event) {
      if (event.target.name !== "identities") return;
      touched = true;
      followCounts();
      refresh({ keepTicks: true });
    });

    // Before starting: name the chosen friends who will not be hidden or fit poorly, and ask once more.
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.name === "anyway") return;
      if (!state) return;
      // One line per reason: "Angie and Jen won't be hidden: looks like a man, the friend does not."
      var lines = [];
      var names = {};
      var spotted = false;
      ticked().forEach(function (id) {
        var friend = friendOf(id);
        var name = friend ? friend.name : "A friend";
        var refused = find(state.refused, id);
        var left = find(state.unplaced, id);
        var placed = find(state.placement, id);
        var line = null;
        if (refused) line = "the face you chose does not fit " + "%s: " + refused.reason.split("; ")[0];
        else if (left) line = "%s won't be hidden: " + left.reason.split("; ")[0];
        else if (placed && placed.verdict === "poor") {
          line = "%s fits poorly: " + placed.reasons[0];
          spotted = true;
        }
        if (line === null) return;
        if (!(line in names)) {
          names[line] = [];
          lines.push(line);
        }
        names[line].push(name);
      });
      if (!lines.length || !state.placement.length) return;
      event.preventDefault();
      var and = function (list) {
        return list.length === 1 ? list[0] : list.slice(0, -1).join(", ") + " and " + list[list.length - 1];
      };
      poorText.textContent =
        lines
          .map(function (line) {
            var who = and(names[line]);
            var text = line.replace("%s", who);
            if (names[line].length > 1) text = text.replace(" fits poorly", " fit poorly");
            return text.charAt(0).toUpperCase() + text.slice(1) + ".";
          })
          .join(" ") +
        (spotted ? " Players may spot a poor fit." : "") +
        " Untick them, or start anyway.";
      poorBox.hidden = false;
      document.getElementById("start-anyway").focus();
    });

    draw();
  }

  root.addEventListener("click", function (event) {
    var reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      var overlay = reveal.closest(".swap-version").querySelector(".reveal");
      var show = overlay.hidden;
      overlay.hidden = !show;
      reveal.setAttribute("aria-pressed", show ? "true" : "false");
      reveal.textContent = show ? "Hide answers" : "Show where they are";
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.querySelector(copy.getAttribute("data-copy"));
      var done = function () {
        copy.textContent = "Copied!";
        window.setTimeout(function () {
          copy.textContent = "Copy link";
        }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          input.select();
        });
      } else {
        input.select();
        document.execCommand("copy");
        done();
      }
      return;
    }
    var share = event.target.closest("[data-web-share]");
    if (share && navigator.share) {
      navigator.share({ title: "Find my friends in this crowd", url: share.getAttribute("data-web-share") }).catch(
        function () {}
      );
    }
  });

  // The Web Share API exists on phones (and a few desktops): show its button only there.
  if (navigator.share) {
    var shareButtons = root.querySelectorAll("[data-web-share]");
    for (var s = 0; s < shareButtons.length; s++) shareButtons[s].hidden = false;
  }

  // Leaderboards update live while friends play.
  var boards = root.querySelectorAll("[data-leaderboard]");
  Array.prototype.forEach.call(boards, function (list) {
    window.CrowdSwapLeaderboard.watch(list.getAttribute("data-socket"), function (entries) {
      window.CrowdSwapLeaderboard.render(list, entries);
    });
  });
})();
