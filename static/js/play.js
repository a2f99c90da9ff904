/* The find-the-face game on /play/<token>/.
 *
 * The page never knows where friends are hidden: each click goes to the server, which answers hit or miss.
 * Only after the player finishes does the state carry the answers, drawn as boxes over the picture.
 * The picture pans (drag), zooms with the wheel, pinch, or the +/− buttons; a tap (not a drag) is a guess. */
(function () {
  "use strict";

  var root = document.getElementById("play");
  if (!root) return;
  var stage = document.getElementById("stage");
  var inner = document.getElementById("stage-inner");
  var picture = document.getElementById("picture");
  var marks = document.getElementById("marks");
  var hint = document.getElementById("hint");
  var scoreEl = document.getElementById("score");
  var joinForm = document.getElementById("join-form");
  var joinError = document.getElementById("join-error");
  var giveUp = document.getElementById("give-up");
  var result = document.getElementById("result");
  var board = document.getElementById("leaderboard");
  var state = JSON.parse(document.getElementById("play-state").textContent);
  var selected = null;
  var busy = false;

  var MAX_ZOOM = 8;
  var TAP_SLOP_PX = 8;
  var view = { scale: 1, x: 0, y: 0 };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(url, body) {
    var options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || "Something went wrong (HTTP " + response.status + ").");
        return data;
      });
    });
  }

  function say(text, kind) {
    hint.textContent = text;
    hint.className = "hint" + (kind ? " " + kind : "");
  }

  // ---------------------------------------------------------------- drawing

  function friend(identity) {
    for (var i = 0; i < state.friends.length; i++) if (state.friends[i].identity === identity) return state.friends[i];
    return null;
  }

  function place(el, x, y) {
    el.style.left = x * 100 + "%";
    el.style.top = y * 100 + "%";
  }

  function render() {
    var player = state.player;
    scoreEl.textContent = player ? player.score : 0;
    joinForm.hidden = !!player;
    giveUp.hidden = !player || player.finished;
    root.classList.toggle("is-finished", !!(player && player.finished));
    var buttons = root.querySelectorAll(".friend");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var info = friend(Number(button.getAttribute("data-identity")));
      if (!info) continue;
      button.classList.toggle("found", !!info.found);
      button.classList.toggle("out", !info.found && info.attempts_left === 0);
      button.setAttribute("aria-pressed", selected === info.identity ? "true" : "false");
      var over = player && player.finished;
      button.querySelector(".friend-tries").textContent = info.found
        ? "found"
        : over || info.attempts_left === 0
          ? "not found"
          : info.attempts_left + (info.attempts_left === 1 ? " try left" : " tries left");
    }
    marks.textContent = "";
    state.guesses.forEach(function (guess) {
      var mark = document.createElement("div");
      mark.className = "marker " + (guess.hit ? "correct" : "wrong");
      var who = friend(guess.identity);
      mark.title = (who ? who.name : "") + (guess.hit ? ": found" : ": not here");
      place(mark, guess.x, guess.y);
      marks.appendChild(mark);
    });
    if (state.answers) {
      state.answers.forEach(function (answer) {
        var box = document.createElement("div");
        box.className = "box answer";
        box.style.left = answer.box[0] * 100 + "%";
        box.style.top = answer.box[1] * 100 + "%";
        box.style.width = answer.box[2] * 100 + "%";
        box.style.height = answer.box[3] * 100 + "%";
        var who = friend(answer.identity);
        var label = document.createElement("span");
        label.textContent = who ? who.name : "";
        box.appendChild(label);
        marks.appendChild(box);
      });
    }
    if (player && player.finished) {
      result.hidden = false;
      var found = state.friends.filter(function (f) {
        return f.found;
      }).length;
      document.getElementById("result-title").textContent = player.gave_up ? "Answers revealed" : "Finished!";
      document.getElementById("result-text").textContent =
        "You found " + found + " of " + state.friends.length + " and scored " + player.score +
        " points" + (state.rank ? ", placing #" + state.rank + " on the leaderboard." : ".") +
        " The boxes show where everyone was hidden.";
      say("Game over. Share the link and see if your friends do better!");
    }
  }

  function renderBoard(entries) {
    window.CrowdSwapLeaderboard.render(board, entries, state.player ? state.player.name : null);
  }

  // ---------------------------------------------------------------- game actions

  function select(identity) {
    var info = friend(identity);
    if (!info) return;
    selected = identity;
    render();
    if (!state.player) say("Enter a nickname and press Play first.");
    else if (info.found) say(info.name + " is already found. Pick someone else.");
    else if (info.attempts_left === 0) say("No tries left for " + info.name + ".");
    else say("Where is " + info.name + "? Tap their face in the picture.");
  }

  function nextFriend() {
    for (var i = 0; i < state.friends.length; i++) {
      var f = state.friends[i];
      if (!f.found && f.attempts_left > 0) return f.identity;
    }
    return null;
  }

  function guessAt(x, y) {
    if (busy || !state.player || state.player.finished) return;
    if (selected === null) {
      say("First pick a friend from the strip above the picture.", "warning");
      return;
    }
    busy = true;
    api(root.getAttribute("data-guess-url"), { identity: selected, x: x, y: y })
      .then(function (data) {
        var name = friend(selected).name;
        state = data.state;
        if (data.hit) {
          say("Yes! That's " + name + " (+" + data.points + ").", "success");
          var next = nextFriend();
          selected = next;
          if (next !== null && !state.player.finished) select(next);
        } else {
          say(
            "Not " + name + " (" + data.points + "). " + data.attempts_left +
              (data.attempts_left === 1 ? " try left." : " tries left."),
            "error"
          );
          if (data.attempts_left === 0) selected = nextFriend();
        }
        render();
      })
      .catch(function (err) {
        say(err.message, "error");
      })
      .then(function () {
        busy = false;
      });
  }

  joinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("nickname");
    joinError.hidden = true;
    api(root.getAttribute("data-join-url"), { nickname: input ? input.value : "" })
      .then(function (data) {
        state = data;
        selected = nextFriend();
        render();
        if (selected !== null) select(selected);
      })
      .catch(function (err) {
        joinError.textContent = err.message;
        joinError.hidden = false;
      });
  });

  giveUp.addEventListener("click", function () {
    if (!window.confirm("Give up and see where everyone is hidden?")) return;
    api(root.getAttribute("data-give-up-url"), {})
      .then(function (data) {
        state = data;
        render();
      })
      .catch(function (err) {
        say(err.message, "error");
      });
  });

  document.getElementById("friends").addEventListener("click", function (event) {
    var button = event.target.closest(".friend");
    if (button) select(Number(button.getAttribute("data-identity")));
  });

  // ---------------------------------------------------------------- pan and zoom

  function clamp() {
    var width = stage.clientWidth;
    var height = stage.clientHeight;
    var contentW = inner.offsetWidth * view.scale;
    var contentH = inner.offsetHeight * view.scale;
    view.x = Math.min(0, Math.max(width - contentW, view.x));
    view.y = contentH <= height ? (height - contentH) / 2 : Math.min(0, Math.max(height - contentH, view.y));
    if (contentW <= width) view.x = (width - contentW) / 2;
  }

  function apply() {
    clamp();
    inner.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.scale + ")";
    // Marks keep their on-screen size whatever the zoom.
    root.style.setProperty("--mark-scale", String(1 / view.scale));
  }

  function zoomAt(factor, cx, cy) {
    var next = Math.min(MAX_ZOOM, Math.max(1, view.scale * factor));
    var ratio = next / view.scale;
    view.x = cx - (cx - view.x) * ratio;
    view.y = cy - (cy - view.y) * ratio;
    view.scale = next;
    apply();
  }

  function local(clientX, clientY) {
    var rect = stage.getBoundingClientRect();
    return { x: clientX - rect.left, y: clientY - rect.top };
  }

  stage.addEventListener(
    "wheel",
    function (event) {
      event.preventDefault();
      var p = local(event.clientX, event.clientY);
      zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, p.x, p.y);
    },
    { passive: false }
  );

  root.querySelector(".zoom-controls").addEventListener("click", function (event) {
    var button = event.target.closest("[data-zoom]");
    if (!button) return;
    event.stopPropagation();
    var kind = button.getAttribute("data-zoom");
    if (kind === "reset") {
      view = { scale: 1, x: 0, y: 0 };
      apply();
      return;
    }
    zoomAt(kind === "in" ? 1.5 : 1 / 1.5, stage.clientWidth / 2, stage.clientHeight / 2);
  });

  var pointers = {};
  var gesture = null;

  function pointerList() {
    return Object.keys(pointers).map(function (id) {
      return pointers[id];
    });
  }

  stage.addEventListener("pointerdown", function (event) {
    if (event.target.closest(".zoom-controls")) return;
    stage.setPointerCapture(event.pointerId);
    pointers[event.pointerId] = local(event.clientX, event.clientY);
    var list = pointerList();
    if (list.length === 1) {
      gesture = { kind: "pan", start: list[0], origin: { x: view.x, y: view.y }, moved: false };
    } else if (list.length === 2) {
      var d = Math.hypot(list[0].x - list[1].x, list[0].y - list[1].y);
      gesture = { kind: "pinch", distance: d, scale: view.scale, moved: true };
    }
  });

  stage.addEventListener("pointermove", function (event) {
    if (!pointers[event.pointerId] || !gesture) return;
    pointers[event.pointerId] = local(event.clientX, event.clientY);
    var list = pointerList();
    if (gesture.kind === "pan" && list.length === 1) {
      var dx = list[0].x - gesture.start.x;
      var dy = list[0].y - gesture.start.y;
      if (Math.abs(dx) + Math.abs(dy) > TAP_SLOP_PX) gesture.moved = true;
      view.x = gesture.origin.x + dx;
      view.y = gesture.origin.y + dy;
      apply();
    } else if (gesture.kind === "pinch" && list.length === 2) {
      var d = Math.hypot(list[0].x - list[1].x, list[0].y - list[1].y);
      var cx = (list[0].x + list[1].x) / 2;
      var cy = (list[0].y + list[1].y) / 2;
      zoomAt((gesture.scale * d) / gesture.distance / view.scale, cx, cy);
    }
  });

  function release(event) {
    if (!pointers[event.pointerId]) return;
    var wasTap = gesture && gesture.kind === "pan" && !gesture.moved && pointerList().length === 1;
    delete pointers[event.pointerId];
    if (pointerList().length === 0) gesture = null;
    if (wasTap && event.type === "pointerup") {
      // Position on the picture itself, whatever the pan and zoom.
      var rect = picture.getBoundingClientRect();
      var x = (event.clientX - rect.left) / rect.width;
      var y = (event.clientY - rect.top) / rect.height;
      if (x >= 0 && x <= 1 && y >= 0 && y <= 1) guessAt(x, y);
    }
  }

  stage.addEventListener("pointerup", release);
  stage.addEventListener("pointercancel", release);
  window.addEventListener("resize", apply);
  picture.addEventListener("load", apply);

  // ---------------------------------------------------------------- live leaderboard

  function loadBoard() {
    return api(root.getAttribute("data-leaderboard-url")).then(renderBoard, function () {});
  }

  if (state.player && !state.player.finished) selected = nextFriend();
  render();
  apply();
  loadBoard();
  window.CrowdSwapLeaderboard.watch(root.getAttribute("data-socket"), renderBoard, loadBoard);
})();
