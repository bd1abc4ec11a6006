/* A small socket.io client for the phone: what static/js/tovholder.js uses of socket.io-client
 * (io(opts), on, emit with an acknowledgement, connect, connected, active), spoken over one
 * websocket (Engine.IO 4, Socket.IO 5; the server takes websockets only). A phone downloads this
 * instead of the whole socket.io-client. Reconnects by itself, with a growing delay; a refusal
 * by the server (CONNECT_ERROR) leaves it inactive, as socket.io-client does. */
(function () {
  "use strict";

  function Socket(opts) {
    this.opts = opts || {};
    this.handlers = {};
    this.acks = {};
    this.nextId = 0;
    this.connected = false;
    this.active = false;
    this.tries = 0;
    this.ws = null;
    this.timer = null;
    this.pingTimer = null;
    this.connect();
  }

  Socket.prototype.on = function (event, fn) {
    (this.handlers[event] = this.handlers[event] || []).push(fn);
    return this;
  };

  Socket.prototype.fire = function (event, args) {
    var list = this.handlers[event] || [];
    for (var i = 0; i < list.length; i++) {
      try { list[i].apply(null, args || []); } catch (err) { console.error("tovholder: socket handler", err); }
    }
  };

  Socket.prototype.connect = function () {
    var self = this;
    if (self.ws) return self;
    self.active = true;
    clearTimeout(self.timer);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + location.host + "/socket.io/?EIO=4&transport=websocket");
    } catch (err) {
      self.lost(true);
      return self;
    }
    self.ws = ws;
    ws.onmessage = function (e) { if (self.ws === ws) self.packet(String(e.data)); };
    ws.onclose = function () { if (self.ws === ws) self.lost(!self.connected); };
    return self;
  };

  Socket.prototype.send = function (text) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(text);
  };

  Socket.prototype.alive = function (ms) {  // the server pings; without one in time, the link is gone
    var self = this;
    clearTimeout(self.pingTimer);
    self.pingTimer = setTimeout(function () { if (self.ws) self.ws.close(); }, ms);
  };

  Socket.prototype.packet = function (data) {
    var type = data.charAt(0);
    if (type === "0") {  // Engine.IO open: join the namespace with our auth
      var open = JSON.parse(data.slice(1));
      this.wait = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      this.alive(this.wait);
      this.send("40" + JSON.stringify(this.opts.auth || {}));
    } else if (type === "2") {  // ping
      this.send("3");
      this.alive(this.wait);
    } else if (type === "1") {  // the server closes
      if (this.ws) this.ws.close();
    } else if (type === "4") {
      this.message(data.slice(1));
    }
  };

  Socket.prototype.message = function (data) {
    var kind = data.charAt(0), rest = data.slice(1);
    if (kind === "0") {  // CONNECT: in
      this.connected = true;
      this.tries = 0;
      this.fire("connect");
    } else if (kind === "4") {  // CONNECT_ERROR: refused; no more tries of our own
      this.active = false;
      this.drop();
      this.fire("connect_error", [new Error("refused")]);
    } else if (kind === "1") {  // DISCONNECT by the server
      this.drop();
    } else if (kind === "2" || kind === "3") {  // EVENT or ACK, with an optional id before the array
      var at = rest.indexOf("[");
      if (at < 0) return;
      var id = rest.slice(0, at), args;
      try { args = JSON.parse(rest.slice(at)); } catch (err) { return; }
      if (kind === "3") {
        var ack = this.acks[id];
        delete this.acks[id];
        if (ack) ack.apply(null, args);
      } else {
        this.fire(args[0], args.slice(1));
      }
    }
  };

  Socket.prototype.emit = function (event, data, ack) {
    if (!this.connected) return this;
    var id = "";
    if (typeof ack === "function") {
      id = String(this.nextId++);
      this.acks[id] = ack;
    }
    this.send("42" + id + JSON.stringify([event, data]));
    return this;
  };

  Socket.prototype.drop = function () {
    var ws = this.ws;
    this.ws = null;
    clearTimeout(this.pingTimer);
    if (ws) { ws.onclose = null; ws.onmessage = null; try { ws.close(); } catch (err) { /* gone */ } }
    this.acks = {};
    if (this.connected) {
      this.connected = false;
      this.fire("disconnect");
    }
  };

  Socket.prototype.lost = function (failed) {
    var self = this;
    self.drop();
    if (failed) self.fire("connect_error", [new Error("unreachable")]);
    if (!self.active) return;
    var most = self.opts.reconnectionDelayMax || 5000;
    var delay = Math.min(most, 1000 * Math.pow(1.5, self.tries++)) * (0.5 + Math.random() / 2);
    self.timer = setTimeout(function () { self.connect(); }, delay);
  };

  window.io = function (opts) { return new Socket(opts); };
})();
