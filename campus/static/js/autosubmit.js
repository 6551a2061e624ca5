// Posts the LTI launch form at once; without JavaScript the visible button does the same.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
