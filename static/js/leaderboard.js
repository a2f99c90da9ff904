/* A challenge's leaderboard: render the entries and keep them live over the challenge's WebSocket.
   Shared by the play page and the host's swap page. */
(function () {
  // `me` ({name, rank}) marks the viewer's row: by rank once known, else the first row with their name.
  function render(list, entries, me) {
    var mine = null;
    if (me) {
      for (var i = 0; i < entries.length && mine === null; i++) {
        if (me.rank ? entries[i].rank === me.rank : entries[i].name === me.name) mine = entries[i];
      }
    }
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
      if (entry === mine) li.className = "me";
      var rank = document.createElement("span");
      rank.className = "rank";
      rank.textContent = entry.rank;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = entry.name;
      // How the player is known: a guest's nickname is theirs to choose, a signed-in name is an account's.
      if (entry.kind) {
        var label = entry.kind === "guest" ? "guest" : entry.kind === "facebook" ? "Facebook" : "signed in";
        name.appendChild(tag(label, "kind-" + entry.kind));
      }
      var found = document.createElement("span");
      found.className = "found";
      found.textContent = entry.hits + " found";
      found.title = entry.finished ? "Finished" : "Still playing";
      var score = document.createElement("span");
      score.className = "score";
      score.textContent = Math.max(0, entry.score);
      li.appendChild(rank);
      li.appendChild(name);
      li.appendChild(found);
      li.appendChild(score);
      list.appendChild(li);
    });
  }

  function tag(text, kind) {
    var node = document.createElement("span");
    node.className = "badge tag" + (kind ? " " + kind : "");
    node.textContent = text;
    return node;
  }

  // Call onBoard(entries) for every board the server pushes; reconnect with backoff, calling
  // onReconnect() first so the page can catch up on what it missed while the socket was down.
  function watch(socketPath, onBoard, onReconnect) {
    if (!("WebSocket" in window)) return;
    var delay = 1000;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    function connect() {
      var socket = new WebSocket(scheme + window.location.host + socketPath);
      socket.onopen = function () {
        delay = 1000;
      };
      socket.onmessage = function (message) {
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (err) {
          return; // a malformed message is ignored; the next one carries the whole board again
        }
        if (data.type === "leaderboard") onBoard(data.entries);
      };
      socket.onclose = function (event) {
        if (event.code === 4404) return; // closed challenge: nothing more will come
        window.setTimeout(function () {
          if (onReconnect) onReconnect();
          connect();
        }, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
  }

  window.CrowdSwapLeaderboard = { render: render, watch: watch };
})();
