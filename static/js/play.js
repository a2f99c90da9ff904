/* The find-the-face game on /play/<token>/.
 *
 * The page never knows where friends are hidden: each click goes to the server, which answers hit or miss,
 * and a hint comes from the server as a region several faces wide. Only after the player finishes does the
 * state carry the answers: thin outlines on the picture and one card per friend, whose crops (after and
 * before the swap) the server cuts for finished players only.
 *
 * The picture fills the screen under a sticky bar; it pans (drag), zooms (wheel, pinch, the buttons under
 * it) and a tap that does not move is a guess. */
(function () {
  "use strict";

  var root = document.getElementById("play");
  if (!root) return;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var stage = $("stage");
  var inner = $("stage-inner");
  var picture = $("picture");
  var marks = $("marks");
  var hintLayer = $("hint-layer");
  var prompt = $("hint");
  var burst = $("burst");
  var scoreEl = $("score");
  var clockEl = $("clock");
  var bonusEl = $("bonus");
  var leftEl = $("left-count");
  var joinForm = $("join-form");
  var joinError = $("join-error");
  var giveUp = $("give-up");
  var hintButton = $("hint-button");
  var endCard = $("end");
  var revealSection = $("reveal");
  var sheet = $("board-sheet");
  var state = JSON.parse($("play-state").textContent);
  var shareUrl = root.getAttribute("data-share-url");
  var bonusMax = Number(root.getAttribute("data-bonus-max"));
  var bonusWindow = Number(root.getAttribute("data-bonus-window"));
  var selected = null;
  var busy = false;
  var holding = false; // the hit moment: the found friend has the stage for a moment
  var seenGuesses = state.guesses.length;
  var lastBoard = [];
  var revealBuiltFor = null;

  var HOLD_MS = 1500;
  var MAX_ZOOM = 8;
  var TAP_SLOP_PX = 8;
  var view = { scale: 1, x: 0, y: 0 };
  var base = { w: 0, h: 0 };

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
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) throw new Error(data.detail || "Something went wrong (HTTP " + response.status + ").");
          return data;
        });
    });
  }

  function say(text, kind) {
    prompt.textContent = text;
    prompt.title = text;
    prompt.className = "prompt" + (kind ? " " + kind : "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function signed(n) {
    // Points as a person writes them: "+126", "−20" (a typographic minus).
    return n < 0 ? "\u2212" + Math.abs(n) : "+" + n;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function clockText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  // ---------------------------------------------------------------- state helpers

  function friend(identity) {
    for (var i = 0; i < state.friends.length; i++) if (state.friends[i].identity === identity) return state.friends[i];
    return null;
  }

  function hintFor(identity) {
    for (var i = 0; i < state.hints.length; i++) if (state.hints[i].identity === identity) return state.hints[i];
    return null;
  }

  function answerFor(identity) {
    if (!state.answers) return null;
    for (var i = 0; i < state.answers.length; i++) if (state.answers[i].identity === identity) return state.answers[i];
    return null;
  }

  function isOpen(info) {
    return info && !info.found && info.attempts_left > 0;
  }

  function nextFriend(after) {
    // The next friend still to find, after the given one (wrapping round), else the first one left.
    var list = state.friends;
    var start = 0;
    for (var i = 0; i < list.length; i++) if (list[i].identity === after) start = i + 1;
    for (var k = 0; k < list.length; k++) {
      var f = list[(start + k) % list.length];
      if (isOpen(f)) return f.identity;
    }
    return null;
  }

  function finished() {
    return !!(state.player && state.player.finished);
  }

  function foundCount() {
    return state.friends.filter(function (f) {
      return f.found;
    }).length;
  }

  function publicScore() {
    // The board never shows a score below zero; what a player shares matches the board.
    return state.player ? Math.max(0, state.player.score) : 0;
  }

  // ---------------------------------------------------------------- drawing

  function place(node, x, y) {
    node.style.left = x * 100 + "%";
    node.style.top = y * 100 + "%";
  }

  function placeBox(node, box) {
    node.style.left = box[0] * 100 + "%";
    node.style.top = box[1] * 100 + "%";
    node.style.width = box[2] * 100 + "%";
    node.style.height = box[3] * 100 + "%";
  }

  function renderFriends() {
    var buttons = root.querySelectorAll(".friend");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var info = friend(Number(button.getAttribute("data-identity")));
      if (!info) continue;
      button.classList.toggle("found", !!info.found);
      button.classList.toggle("out", !info.found && info.attempts_left === 0);
      button.setAttribute("aria-pressed", !finished() && selected === info.identity ? "true" : "false");
      var tries = button.querySelector(".friend-tries");
      if (info.found) tries.textContent = "found";
      else if (finished() || info.attempts_left === 0) tries.textContent = "not found";
      else tries.textContent = plural(info.attempts_left, "try", "tries") + " left";
    }
  }

  function renderMarks() {
    marks.textContent = "";
    state.guesses.forEach(function (guess, index) {
      var mark = el("div", "marker " + (guess.hit ? "correct" : "wrong") + (index >= seenGuesses ? " fresh" : ""));
      var who = friend(guess.identity);
      mark.title = (who ? who.name : "") + (guess.hit ? ": found" : ": not here");
      place(mark, guess.x, guess.y);
      marks.appendChild(mark);
    });
    seenGuesses = state.guesses.length;
    if (state.answers) {
      state.answers.forEach(function (answer) {
        var outline = el("div", "answer-outline");
        outline.setAttribute("data-identity", String(answer.identity));
        placeBox(outline, answer.box);
        marks.appendChild(outline);
      });
    }
  }

  function renderHint() {
    hintLayer.textContent = "";
    var info = friend(selected);
    var hint = selected !== null ? hintFor(selected) : null;
    if (hint && !finished() && isOpen(info)) {
      var region = el("div", "hint-region");
      placeBox(region, hint.region);
      hintLayer.appendChild(region);
    }
    var canHint = !!(state.player && !finished() && isOpen(info));
    hintButton.disabled = !canHint;
    hintButton.setAttribute("aria-pressed", hint && canHint ? "true" : "false");
    hintButton.firstChild.textContent = hint && canHint ? "Hint shown " : "Hint ";
    hintButton.querySelector(".cost").hidden = !!hint;
  }

  function renderBar() {
    var player = state.player;
    // A typographic minus: "−30" reads as a score, "-30" as a dash.
    var score = player ? player.score : 0;
    scoreEl.textContent = score < 0 ? signed(score) : String(score);
    // While playing: who is still to find; afterwards: how many were found.
    leftEl.textContent = finished() ? foundCount() : state.friends.filter(isOpen).length;
    $("left-label").textContent = finished() ? "Found" : "Left";
    tick();
  }

  function render() {
    var player = state.player;
    joinForm.hidden = !!player;
    giveUp.hidden = !player || finished();
    root.classList.toggle("is-playing", !!player && !finished());
    root.classList.toggle("is-finished", finished());
    renderBar();
    renderFriends();
    renderMarks();
    renderHint();
    if (finished()) renderEnd();
    renderRank();
  }

  // ---------------------------------------------------------------- the clock

  var clockFrom = { seconds: state.player ? state.player.seconds : 0, at: Date.now() };

  function syncClock() {
    clockFrom = { seconds: state.player ? state.player.seconds : 0, at: Date.now() };
  }

  function tick() {
    var player = state.player;
    if (!player) {
      clockEl.textContent = "0:00";
      bonusEl.textContent = "+" + bonusMax;
      return;
    }
    var seconds = player.finished ? player.seconds : clockFrom.seconds + (Date.now() - clockFrom.at) / 1000;
    clockEl.textContent = clockText(seconds);
    if (player.finished) {
      bonusEl.textContent = "";
      return;
    }
    var bonus = Math.round((bonusMax * Math.max(0, bonusWindow - seconds)) / bonusWindow);
    bonusEl.textContent = bonus > 0 ? "+" + bonus : "";
  }

  window.setInterval(tick, 500);

  // ---------------------------------------------------------------- leaderboard

  function myRank(entries) {
    if (state.rank) return state.rank;
    if (!state.player) return null;
    for (var i = 0; i < entries.length; i++) if (entries[i].name === state.player.name) return entries[i].rank;
    return null;
  }

  function renderRank() {
    // A game from a browser, account or network that has seen the answers is played off the board.
    if (state.player && state.player.ranked === false) {
      $("board-rank").textContent = "off the board";
      $("board-rank").title = state.player.off_board_reason;
      return;
    }
    var rank = myRank(lastBoard);
    $("board-rank").textContent = rank ? "#" + rank : "";
  }

  function renderBoard(entries) {
    lastBoard = entries || [];
    var lists = root.querySelectorAll("[data-board]");
    for (var i = 0; i < lists.length; i++) {
      window.CrowdSwapLeaderboard.render(lists[i], lastBoard, state.player ? { name: state.player.name, rank: state.rank } : null);
    }
    renderRank();
  }

  function loadBoard() {
    return api(root.getAttribute("data-leaderboard-url")).then(renderBoard, function () {});
  }

  function openBoard() {
    var panel = $("board-panel");
    if (panel && panel.offsetParent !== null) {
      // Wide screens show the board beside the picture already.
      panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
      panel.classList.remove("flash");
      void panel.offsetWidth;
      panel.classList.add("flash");
      return;
    }
    loadBoard();
    if (typeof sheet.showModal === "function") sheet.showModal();
    else sheet.setAttribute("open", "");
  }

  $("board-button").addEventListener("click", openBoard);
  $("end-board").addEventListener("click", openBoard);
  $("board-close").addEventListener("click", function () {
    sheet.close();
  });
  sheet.addEventListener("click", function (event) {
    if (event.target === sheet) sheet.close(); // a tap on the backdrop
  });

  // ---------------------------------------------------------------- the end: score, sharing, the reveal

  function shareText() {
    var total = state.friends.length;
    var found = foundCount();
    var time = clockText(state.player.seconds);
    return (
      "I found " + found + " of " + total + (total === 1 ? " friend" : " friends") + " hidden in this crowd" +
      (found ? " in " + time : "") + " and scored " + publicScore() + " points. Can you beat me?"
    );
  }

  function note(text) {
    $("share-note").textContent = text;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = el("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      area.remove();
      if (ok) resolve();
      else reject(new Error("copy refused"));
    });
  }

  function share(data, copied) {
    // Phones open their share sheet (WhatsApp, Messages, ...); elsewhere the text goes to the clipboard.
    if (navigator.share) {
      return navigator.share(data).then(
        function () {
          note("Shared!");
        },
        function () {}
      );
    }
    return copyText(data.text ? data.text + " " + data.url : data.url).then(
      function () {
        note(copied);
      },
      function () {
        note("Copy this link: " + data.url);
      }
    );
  }

  $("share-score").addEventListener("click", function () {
    share({ title: "My CrowdSwap score", text: shareText(), url: shareUrl }, "Score and link copied: paste them anywhere.");
  });
  $("copy-score").addEventListener("click", function () {
    copyText(shareText() + " " + shareUrl).then(
      function () {
        note("Score and link copied: paste them anywhere.");
      },
      function () {
        note("Copy this link: " + shareUrl);
      }
    );
  });
  $("challenge").addEventListener("click", function () {
    share(
      { title: "Find my friends in this crowd", text: "Can you find the friends hidden in this crowd?", url: shareUrl },
      "Link copied: send it to a friend."
    );
  });

  function renderEnd() {
    var player = state.player;
    var total = state.friends.length;
    var found = foundCount();
    endCard.hidden = false;
    $("end-kicker").textContent = player.gave_up ? "Answers revealed" : "Challenge complete";
    $("end-title").textContent =
      found === total ? "You found all " + total + "!" : found === 0 ? "They hid well!" : "You found " + found + " of " + total;
    $("end-points").textContent = publicScore();
    $("end-rank").textContent =
      player.ranked === false ? player.off_board_reason : state.rank ? "#" + state.rank + " on the board" : "";
    var misses = player.misses;
    $("end-detail").textContent =
      "Time " + clockText(player.seconds) + " · " + plural(misses, "miss", "misses") +
      (state.hints.length ? " · " + plural(state.hints.length, "hint", "hints") : "");
    if (revealBuiltFor !== state.reveal) buildReveal();
  }

  function pointsFor(identity) {
    var total = 0;
    state.guesses.forEach(function (g) {
      if (g.identity === identity && g.hit) total += g.points;
    });
    return total;
  }

  function revealUrl(identity, which) {
    return root
      .getAttribute("data-reveal-url")
      .replace("{identity}", String(identity))
      .replace("{which}", which);
  }

  function buildReveal() {
    revealBuiltFor = state.reveal;
    var list = $("reveal-cards");
    list.textContent = "";
    if (!state.reveal || !state.reveal.length) return;
    revealSection.hidden = false;
    state.reveal.forEach(function (card) {
      var info = friend(card.identity) || { name: "A friend", found: false };
      var item = el("li", "card reveal-card " + (info.found ? "found" : "missed"));
      item.setAttribute("data-identity", String(card.identity));

      var pics = el("div", "reveal-pics");
      var own = el("figure", "own-face");
      var chip = root.querySelector('.friend[data-identity="' + card.identity + '"] img');
      var ownImg = el("img");
      ownImg.alt = info.name;
      if (chip) ownImg.src = chip.src;
      own.appendChild(ownImg);
      own.appendChild(el("figcaption", "", "Their photo"));
      pics.appendChild(own);

      var crowd = el("figure", "crowd-face");
      var frame = el("span", "frame");
      var crowdImg = el("img");
      crowdImg.src = revealUrl(card.identity, "after");
      crowdImg.alt = info.name + " in the crowd, swapped in";
      crowdImg.setAttribute("data-which", "after");
      frame.appendChild(crowdImg);
      var outline = el("span", "outline");
      placeBox(outline, card.outline);
      frame.appendChild(outline);
      crowd.appendChild(frame);
      var caption = el("figcaption", "", "In the crowd");
      crowd.appendChild(caption);
      pics.appendChild(crowd);
      item.appendChild(pics);

      var head = el("div", "reveal-head");
      head.appendChild(el("strong", "", info.name));
      var hinted = hintFor(card.identity);
      var result = info.found
        ? "Found · +" + pointsFor(card.identity) + (hinted ? " (hint −" + state.hint_cost + ")" : "")
        : "Not found" + (hinted ? " · hint −" + state.hint_cost : "");
      head.appendChild(el("span", "reveal-result " + (info.found ? "found" : "missed"), result));
      item.appendChild(head);

      var actions = el("div", "reveal-actions");
      if (card.before) {
        var toggle = el("div", "toggle");
        toggle.setAttribute("role", "group");
        toggle.setAttribute("aria-label", "Before or after the swap");
        [
          ["after", "After"],
          ["before", "Before"],
        ].forEach(function (pair) {
          var button = el("button", "", pair[1]);
          button.type = "button";
          button.setAttribute("data-which", pair[0]);
          button.setAttribute("aria-pressed", pair[0] === "after" ? "true" : "false");
          toggle.appendChild(button);
        });
        actions.appendChild(toggle);
        // Fetch the other side now, so the toggle flips at once.
        new Image().src = revealUrl(card.identity, "before");
      }
      var show = el("button", "button small ghost", "Show in picture");
      show.type = "button";
      show.setAttribute("data-show", String(card.identity));
      actions.appendChild(show);
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  $("reveal-cards").addEventListener("click", function (event) {
    var which = event.target.closest("[data-which]");
    if (which && which.tagName === "BUTTON") {
      var card = which.closest(".reveal-card");
      var identity = Number(card.getAttribute("data-identity"));
      var side = which.getAttribute("data-which");
      var img = card.querySelector(".crowd-face img");
      img.src = revealUrl(identity, side);
      img.setAttribute("data-which", side);
      img.alt = friend(identity).name + (side === "after" ? " in the crowd, swapped in" : ": the crowd face before the swap");
      card.querySelector(".crowd-face figcaption").textContent = side === "after" ? "In the crowd" : "Before the swap";
      var buttons = card.querySelectorAll(".toggle button");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].setAttribute("aria-pressed", buttons[i] === which ? "true" : "false");
      }
      return;
    }
    var show = event.target.closest("[data-show]");
    if (show) {
      var answer = answerFor(Number(show.getAttribute("data-show")));
      if (!answer) return;
      $("game").scrollIntoView({ behavior: "smooth", block: "start" });
      zoomTo(answer.box, 1);
      var outlines = marks.querySelectorAll(".answer-outline");
      for (var k = 0; k < outlines.length; k++) {
        outlines[k].classList.toggle("focus", outlines[k].getAttribute("data-identity") === show.getAttribute("data-show"));
      }
    }
  });

  // ---------------------------------------------------------------- game actions

  function promptFor(info) {
    if (!state.player) return "Type your name and press Play to start.";
    if (info.found) return info.name + " is found already. Pick someone else.";
    if (info.attempts_left === 0) return "No tries left for " + info.name + ".";
    if (hintFor(info.identity)) return info.name + " is in the bright area. Tap their face.";
    return "Where is " + info.name + "? Tap their face.";
  }

  function select(identity) {
    var info = friend(identity);
    if (!info) return;
    selected = identity;
    render();
    if (!finished()) say(promptFor(info));
    var chip = root.querySelector('.friend[data-identity="' + identity + '"]');
    if (chip && chip.scrollIntoView) chip.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function bumpScore() {
    scoreEl.classList.remove("bump");
    void scoreEl.offsetWidth;
    scoreEl.classList.add("bump");
  }

  function showBurst(point, points, name) {
    burst.querySelector(".burst-points").textContent = signed(points);
    burst.querySelector(".burst-name").textContent = name;
    burst.style.left = point.x + "px";
    burst.style.top = point.y + "px";
    burst.hidden = false;
    burst.style.animation = "none";
    void burst.offsetWidth;
    burst.style.animation = "";
  }

  function afterFinishing() {
    render();
    say(state.player.gave_up ? "Here is where everyone was." : "All done! See how you did below.", "success");
    window.requestAnimationFrame(function () {
      endCard.scrollIntoView({ behavior: "smooth", block: "start" });
    });
  }

  function guessAt(x, y, point) {
    if (!state.player) {
      // Looking around first is fine; a tap that means a guess needs a player.
      say("Type your name and press Play first: the clock starts then.", "warning");
      joinForm.scrollIntoView({ behavior: "smooth", block: "center" });
      askForName = true; // the click that ends this tap would take the focus back: focus the name after it
      return;
    }
    if (busy || holding || finished()) return;
    if (selected === null || !isOpen(friend(selected))) {
      selected = nextFriend(null);
      if (selected === null) return;
    }
    busy = true;
    var identity = selected;
    var name = friend(identity).name;
    api(root.getAttribute("data-guess-url"), { identity: identity, x: x, y: y })
      .then(function (data) {
        state = data.state;
        syncClock();
        if (data.hit) {
          holding = true;
          root.classList.add("is-holding");
          render();
          bumpScore();
          showBurst(point, data.points, "Found " + name + "!");
          var chip = root.querySelector('.friend[data-identity="' + identity + '"]');
          if (chip) chip.classList.add("just-found");
          say("Yes! That's " + name + " (" + signed(data.points) + ").", "success");
          loadBoard();
          window.setTimeout(function () {
            holding = false;
            root.classList.remove("is-holding");
            burst.hidden = true;
            if (chip) chip.classList.remove("just-found");
            if (finished()) {
              afterFinishing();
              return;
            }
            var next = nextFriend(identity);
            if (next !== null) select(next);
          }, HOLD_MS);
        } else {
          bumpScore();
          if (finished()) {
            afterFinishing();
            return;
          }
          if (data.attempts_left === 0) {
            var next = nextFriend(identity);
            selected = next;
            render();
            say("Not " + name + " (" + signed(data.points) + "), and no tries left for them." +
              (next !== null ? " Now find " + friend(next).name + "." : ""), "error");
          } else {
            render();
            say("Not " + name + " (" + signed(data.points) + "). " + plural(data.attempts_left, "try", "tries") + " left.", "error");
          }
        }
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
    var input = $("nickname");
    joinError.hidden = true;
    var button = $("join-button");
    button.disabled = true;
    api(root.getAttribute("data-join-url"), { nickname: input ? input.value : "" })
      .then(function (data) {
        state = data;
        syncClock();
        selected = nextFriend(null);
        render();
        if (selected !== null) select(selected);
        scrollToGame();
        loadBoard();
      })
      .catch(function (err) {
        joinError.textContent = err.message;
        joinError.hidden = false;
      })
      .then(function () {
        button.disabled = false;
      });
  });

  hintButton.addEventListener("click", function () {
    if (selected === null || busy) return;
    var existing = hintFor(selected);
    if (existing) {
      zoomTo(existing.region, 0.05);
      return;
    }
    busy = true;
    var name = friend(selected).name;
    api(root.getAttribute("data-hint-url"), { identity: selected })
      .then(function (data) {
        state = data.state;
        syncClock();
        render();
        if (data.charged) bumpScore();
        zoomTo(data.region, 0.05);
        say(name + " is in the bright area (−" + data.cost + ").", "warning");
      })
      .catch(function (err) {
        say(err.message, "error");
      })
      .then(function () {
        busy = false;
      });
  });

  // Giving up asks first, in the tools row itself: a browser's confirm() box covers a phone's whole screen and
  // some in-app browsers never show it.
  var tools = giveUp.parentNode;
  var confirmGiveUp = $("give-up-confirm");

  function askToGiveUp(asking) {
    tools.classList.toggle("is-confirming", asking);
    confirmGiveUp.hidden = !asking;
    (asking ? $("give-up-no") : giveUp).focus();
  }

  giveUp.addEventListener("click", function () {
    askToGiveUp(true);
  });

  $("give-up-no").addEventListener("click", function () {
    askToGiveUp(false);
  });

  $("give-up-yes").addEventListener("click", function () {
    tools.classList.remove("is-confirming");
    confirmGiveUp.hidden = true;
    api(root.getAttribute("data-give-up-url"), {})
      .then(function (data) {
        state = data;
        afterFinishing();
        loadBoard();
      })
      .catch(function (err) {
        say(err.message, "error");
      });
  });

  $("friends").addEventListener("click", function (event) {
    var button = event.target.closest(".friend");
    if (button && !holding) select(Number(button.getAttribute("data-identity")));
  });

  function scrollToGame() {
    var bar = $("game-bar");
    var body = root.querySelector(".play-body");
    var top = body.getBoundingClientRect().top + window.pageYOffset - bar.offsetHeight;
    window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
  }

  // ---------------------------------------------------------------- pan and zoom

  function imageSize() {
    return {
      w: picture.naturalWidth || Number(picture.getAttribute("width")) || 1,
      h: picture.naturalHeight || Number(picture.getAttribute("height")) || 1,
    };
  }

  function layout() {
    // Scale 1 shows the whole picture ("Fit"); the picture keeps its shape at any stage size.
    var size = imageSize();
    var fit = Math.min(stage.clientWidth / size.w, stage.clientHeight / size.h);
    base.w = size.w * fit;
    base.h = size.h * fit;
    inner.style.width = base.w + "px";
    inner.style.height = base.h + "px";
  }

  function fillScale() {
    // The zoom at which the picture fills the stage's width and height (no bars).
    if (!base.w || !base.h) return 1;
    return Math.min(MAX_ZOOM, Math.max(stage.clientWidth / base.w, stage.clientHeight / base.h));
  }

  function clamp() {
    var width = stage.clientWidth;
    var height = stage.clientHeight;
    var contentW = base.w * view.scale;
    var contentH = base.h * view.scale;
    view.x = contentW <= width ? (width - contentW) / 2 : Math.min(0, Math.max(width - contentW, view.x));
    view.y = contentH <= height ? (height - contentH) / 2 : Math.min(0, Math.max(height - contentH, view.y));
  }

  function apply(glide) {
    clamp();
    inner.classList.toggle("glide", !!glide);
    inner.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.scale + ")";
    // Marks keep their on-screen size whatever the zoom.
    root.style.setProperty("--mark-scale", String(1 / view.scale));
  }

  function zoomAt(factor, cx, cy, glide) {
    var next = Math.min(MAX_ZOOM, Math.max(1, view.scale * factor));
    var ratio = next / view.scale;
    view.x = cx - (cx - view.x) * ratio;
    view.y = cy - (cy - view.y) * ratio;
    view.scale = next;
    apply(glide);
  }

  function centreOn(fx, fy) {
    view.x = stage.clientWidth / 2 - fx * base.w * view.scale;
    view.y = stage.clientHeight / 2 - fy * base.h * view.scale;
  }

  function zoomTo(box, padding) {
    // Show a region (image fractions) as large as the stage allows, with some room around it.
    var pad = 1 + 2 * (padding || 0);
    var sx = stage.clientWidth / (box[2] * pad * base.w);
    var sy = stage.clientHeight / (box[3] * pad * base.h);
    view.scale = Math.min(MAX_ZOOM, Math.max(1, Math.min(sx, sy)));
    centreOn(box[0] + box[2] / 2, box[1] + box[3] / 2);
    apply(true);
  }

  function startView() {
    // Phones hold the picture across: fill the tall stage and let the player pan, rather than show a strip.
    view.scale = fillScale();
    centreOn(0.5, 0.5);
    apply(false);
  }

  var laidOut = false;
  function relayout() {
    var centre = null;
    if (laidOut && base.w) {
      centre = {
        x: (stage.clientWidth / 2 - view.x) / (base.w * view.scale),
        y: (stage.clientHeight / 2 - view.y) / (base.h * view.scale),
      };
    }
    layout();
    if (!laidOut) {
      laidOut = true;
      startView();
      return;
    }
    if (centre) centreOn(centre.x, centre.y);
    apply(false);
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
    var kind = button.getAttribute("data-zoom");
    if (kind === "fit") {
      view.scale = 1;
      apply(true);
      return;
    }
    zoomAt(kind === "in" ? 1.5 : 1 / 1.5, stage.clientWidth / 2, stage.clientHeight / 2, true);
  });

  function local(clientX, clientY) {
    var rect = stage.getBoundingClientRect();
    return { x: clientX - rect.left, y: clientY - rect.top };
  }

  var pointers = {};
  var gesture = null;

  function pointerList() {
    return Object.keys(pointers).map(function (id) {
      return pointers[id];
    });
  }

  stage.addEventListener("pointerdown", function (event) {
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
      if (!gesture.moved) return;
      view.x = gesture.origin.x + dx;
      view.y = gesture.origin.y + dy;
      apply(false);
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
      if (x >= 0 && x <= 1 && y >= 0 && y <= 1) guessAt(x, y, local(event.clientX, event.clientY));
    }
  }

  var askForName = false;
  stage.addEventListener("click", function () {
    var nickname = $("nickname");
    if (askForName && nickname) nickname.focus({ preventScroll: true });
    askForName = false;
  });

  stage.addEventListener("pointerup", release);
  stage.addEventListener("pointercancel", release);
  window.addEventListener("resize", relayout);
  if (window.ResizeObserver) new window.ResizeObserver(relayout).observe(stage);
  picture.addEventListener("load", relayout);

  // ---------------------------------------------------------------- start

  if (state.player && !finished()) selected = nextFriend(null);
  render();
  relayout();
  if (state.player && !finished() && selected !== null) {
    say(promptFor(friend(selected)));
    scrollToGame();
  } else if (!state.player) {
    say(promptFor({}));
  } else {
    say("Here is where everyone was.", "success");
  }
  loadBoard();
  window.CrowdSwapLeaderboard.watch(root.getAttribute("data-socket"), renderBoard, loadBoard);
})();
