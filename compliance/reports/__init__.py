"""Views of the result model. Each view is a pure function of the StackReport list (plus the
names of stacks that could not be planned), so further views (HTML, SARIF) slot in beside them."""
