// LTI Dynamic Registration offered to a tool (lti/offer_open.html): when the tool's page says
// it is done (postMessage {subject: "org.imsglobal.lti.close"}), go back to the tools list,
// where the new tool now appears. Messages from other origins are ignored.
(function () {
  "use strict";
  var offer = document.getElementById("registration-offer");
  if (!offer) {
    return;
  }
  var toolOrigin = offer.getAttribute("data-tool-origin");
  var back = offer.getAttribute("data-return-url");
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== toolOrigin || !data || typeof data !== "object") {
      return;
    }
    if (data.subject === "org.imsglobal.lti.close") {
      window.location.assign(back);
    }
  });
})();
