// File pickers styled as a button (verify page): shows the chosen file's name.
// Without JavaScript the browser's own file control is shown instead.
"use strict";
document.querySelectorAll(".bm-file").forEach((wrapper) => {
  const input = wrapper.querySelector("input[type=file]");
  const name = wrapper.querySelector(".bm-file-name");
  if (!input || !name) {
    return;
  }
  wrapper.classList.add("bm-file-js");
  const show = () => {
    name.textContent = input.files && input.files.length ? input.files[0].name : name.dataset.bmEmpty;
  };
  input.addEventListener("change", show);
  show();
});
