// The header's menu button on narrow screens. Loaded in <head> (not deferred): it marks the page
// as scripted at once (class "js" on <html>), so the collapsed menu never flashes open. Without
// JavaScript the class is missing: the button stays hidden and the navigation stays visible.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function setUp() {
    var button = document.querySelector(".menu-toggle[aria-controls]");
    if (!button) return;
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the focus back on its button.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
