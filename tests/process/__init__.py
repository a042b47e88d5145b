"""Process-level tests: real `amplifier run` workers against fake network servers."""
