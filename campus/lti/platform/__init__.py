"""The campus as an LTI 1.3 platform: it launches external tools (blueprint "lti", /lti)."""
