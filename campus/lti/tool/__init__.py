"""The campus as an LTI 1.3 tool: LMSs launch it (blueprint "lti_tool", /lti/tool)."""
