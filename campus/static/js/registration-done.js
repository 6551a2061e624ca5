// LTI Dynamic Registration: tell the LMS that registration is finished so it closes the dialog.
(window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
