// LTI Dynamic Registration inside the LMS's dialog: the admin confirms in a window of its own
// (this page opened it). When that window says it is done (a message from this campus only),
// pass the LMS the "registration done" message, which closes its dialog.
(function () {
  "use strict";
  var box = document.querySelector("[data-registration-relay]");
  if (!box) { return; }
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) { return; }
    var data = event.data;
    if (!data || data.subject !== "org.imsglobal.lti.close") { return; }
    var finished = box.querySelector("[data-registration-finished]");
    if (finished) { finished.hidden = false; }
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
    }
  });
})();
