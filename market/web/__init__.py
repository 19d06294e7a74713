"""The web shell: request plumbing (session per request, locale, authentication, CSRF),
problem-details errors, template set-up and the pages every visitor sees."""
