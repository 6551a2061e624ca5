// LTI platform storage (1EdTech "LTI Client Side postMessages" and "LTI postMessage Storage"):
// where the browser keeps no cookie inside the LMS frame, the OIDC state is kept by the LMS.
// "put": store state and nonce in the LMS's storage frame, then go on to the LMS's sign-in.
// "get": read the state back and post it with the launch's one-time token.
// Answers count only from the LMS's origin and for the message this page sent.
(function () {
  "use strict";
  var box = document.querySelector("[data-lti-storage]");
  if (!box) { return; }
  var origin = box.getAttribute("data-platform-origin");
  var targetName = box.getAttribute("data-storage-target");
  var TIMEOUT_MS = 5000;

  function storageFrame() {
    var parent = window.parent;
    if (!parent || parent === window) { return null; }
    if (targetName === "_parent") { return parent; }
    try { return parent.frames[targetName] || null; } catch (error) { return null; }
  }

  function send(frame, message) {
    return new Promise(function (resolve, reject) {
      var id = message.subject + "-" + Date.now().toString(36) + "-" +
        Math.random().toString(36).slice(2);
      var timer = null;
      function done() {
        window.removeEventListener("message", onMessage);
        window.clearTimeout(timer);
      }
      function onMessage(event) {
        var data = event.data;
        if (event.origin !== origin || !data || typeof data !== "object") { return; }
        if (data.message_id !== id || data.subject !== message.subject + ".response") { return; }
        done();
        if (data.error) { reject(data.error); } else { resolve(data); }
      }
      window.addEventListener("message", onMessage);
      timer = window.setTimeout(function () { done(); reject({ code: "timeout" }); }, TIMEOUT_MS);
      message.message_id = id;
      frame.postMessage(message, origin);
    });
  }

  function failed() {
    var progress = box.querySelector("[data-lti-storage-progress]");
    var problem = box.querySelector("[data-lti-storage-failed]");
    if (progress) { progress.hidden = true; }
    if (problem) { problem.hidden = false; }
  }

  var frame = storageFrame();
  if (!frame) { failed(); return; }

  if (box.getAttribute("data-lti-storage") === "put") {
    send(frame, { subject: "lti.put_data", key: box.getAttribute("data-state-key"),
                  value: box.getAttribute("data-state") })
      .then(function () {
        return send(frame, { subject: "lti.put_data", key: box.getAttribute("data-nonce-key"),
                             value: box.getAttribute("data-nonce") });
      })
      .then(function () { window.location.replace(box.getAttribute("data-next")); })
      .catch(failed);
  } else {
    send(frame, { subject: "lti.get_data", key: box.getAttribute("data-state-key") })
      .then(function (answer) {
        if (typeof answer.value !== "string" || answer.value === "") { throw { code: "empty" }; }
        var form = box.querySelector("[data-lti-storage-form]");
        form.elements.state.value = answer.value;
        form.submit();
      })
      .catch(failed);
  }
})();
