// Copy-link buttons (badge pages). Without JavaScript the read-only field stays to select.
"use strict";
document.querySelectorAll("[data-bm-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.bmCopy);
  const status = document.getElementById(button.dataset.bmStatus);
  if (!field || !status) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = button.dataset.bmDone;
    } catch (error) {
      field.focus();
      field.select();
      status.textContent = button.dataset.bmFailed;
    }
  });
});
