"""The four provider surfaces; a provider never imports another provider."""
