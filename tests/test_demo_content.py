"""The shipped demo content meets the brief: eight themes, a path each, plus tutor and regional paths."""

from __future__ import annotations

from campus.config import REPO_ROOT
from campus.paths.content import load_tree


def test_demo_content_is_valid_and_complete() -> None:
    tree = load_tree(REPO_ROOT / "content")
    assert [str(p) for p in tree.problems] == []
    assert len(tree.themes) == 8
    assert sorted(t.position for t in tree.themes) == list(range(1, 9))
    themes_with_paths = {p.theme for p in tree.paths}
    assert themes_with_paths == {t.slug for t in tree.themes}
    audiences = {a for p in tree.paths for a in p.audience}
    assert {"tutor_teachers", "regional_developers"} <= audiences
    for path in tree.paths:
        kinds = [m.kind for m in path.modules]
        assert 3 <= len(kinds) <= 5, path.slug
        assert "quiz" in kinds and "reflection" in kinds, path.slug
        for module in path.modules:
            assert {"fi", "en"} <= set(module.body_html), (path.slug, module.slug)
            assert all(len(html) > 400 for html in module.body_html.values()), (
                path.slug,
                module.slug,
            )
            assert "lorem" not in " ".join(module.body_html.values()).lower()
    evidence_paths = {p.slug for p in tree.paths if any(m.kind == "evidence" for m in p.modules)}
    assert {"tutor-teacher", "regional-developer"} <= evidence_paths
