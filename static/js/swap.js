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

  // The form: the "can host N" hint and the preview follow the chosen crowd; too many friends are flagged.
  var form = document.getElementById("swap-form");
  if (form) {
    var crowd = document.getElementById("swap-crowd");
    var hostsNote = document.getElementById("crowd-hosts");
    var preview = document.getElementById("crowd-preview");
    var picked = document.getElementById("picked-count");
    var tooMany = document.getElementById("too-many");
    var start = document.getElementById("start-swap");
    var followCrowd = function () {
      var option = crowd.options[crowd.selectedIndex];
      var hosts = Number(option.getAttribute("data-hosts"));
      var ticked = form.querySelectorAll('input[name="identities"]:checked').length;
      hostsNote.textContent = "This crowd can host " + hosts + (hosts === 1 ? " friend." : " friends.");
      if (preview && preview.getAttribute("src") !== option.getAttribute("data-image")) {
        preview.src = option.getAttribute("data-image");
      }
      picked.textContent = "— " + ticked + " chosen, this crowd can host " + hosts;
      tooMany.hidden = ticked <= hosts;
      tooMany.textContent =
        "This crowd can host " + hosts + (hosts === 1 ? " friend" : " friends") + " and you chose " + ticked +
        ": untick some, or choose a crowd that can host more.";
      start.disabled = ticked === 0 || ticked > hosts;
    };
    crowd.addEventListener("change", followCrowd);
    form.addEventListener("change", followCrowd);
    followCrowd();
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
