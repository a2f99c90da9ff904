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
  function renderBoard(list, entries) {
    list.textContent = "";
    if (!entries.length) {
      var empty = document.createElement("li");
      empty.className = "muted empty-row";
      empty.textContent = "Nobody has played yet.";
      list.appendChild(empty);
      return;
    }
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = entry.name;
      var score = document.createElement("span");
      score.className = "score";
      score.textContent = entry.score;
      li.appendChild(name);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(score);
      list.appendChild(li);
    });
  }

  function watchBoard(list, delay) {
    if (!("WebSocket" in window)) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + list.getAttribute("data-socket"));
    socket.onmessage = function (message) {
      try {
        var data = JSON.parse(message.data);
        if (data.type === "leaderboard") renderBoard(list, data.entries);
      } catch (err) {
        // A malformed message is ignored; the next one carries the whole board again.
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4404) return;
      window.setTimeout(function () {
        watchBoard(list, Math.min(delay * 2, 30000));
      }, delay);
    };
  }

  var boards = root.querySelectorAll("[data-leaderboard]");
  for (var b = 0; b < boards.length; b++) watchBoard(boards[b], 1000);
})();
