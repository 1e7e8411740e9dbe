"""Templates in a Jinja2 sandbox: placeholders, conditions and loops over plain data, and nothing else."""

from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from app.errors import AppError, field_error

MAX_OUTPUT = 20_000
MAX_REPEAT = 2_000
# Filters that only reshape text; those that pad or repeat (center, indent, format, wordwrap) are left out.
SAFE_FILTERS = (
    "capitalize",
    "d",
    "default",
    "first",
    "join",
    "last",
    "length",
    "lower",
    "striptags",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)


class TemplateRefused(AppError):
    status = 422
    type = "template-refused"
    title = "The template is not allowed"


class _Sandbox(SandboxedEnvironment):
    """A sandbox without functions to call, powers to raise, or strings to repeat without bound."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers (**) are not allowed in a template")
        if isinstance(left, int) and isinstance(right, int):
            return left * right
        count = right if isinstance(right, int) else left
        if not isinstance(count, int) or count > MAX_REPEAT:
            raise SecurityError(f"a template may repeat text at most {MAX_REPEAT} times")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        raise SecurityError("a template cannot call functions or methods")


def _environment() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        keep_trailing_newline=False,
        finalize=lambda value: "" if value is None else value,
    )
    base_filters = dict(env.filters)
    env.filters = {name: base_filters[name] for name in SAFE_FILTERS}
    env.globals = {}
    env.tests = {name: test for name, test in env.tests.items() if name not in {"callable"}}
    return env


_ENV = _environment()


def _describe(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"the attribute {node.attr!r} reaches into Python internals"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        if isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            return f"the key {node.arg.value!r} reaches into Python internals"
    if isinstance(node, nodes.Name) and node.name.startswith("_"):
        return f"the name {node.name!r} reaches into Python internals"
    if isinstance(node, nodes.Call):
        return "a template cannot call functions or methods"
    if isinstance(node, nodes.Include | nodes.Extends | nodes.Import | nodes.FromImport):
        return "a template cannot include, extend or import other templates"
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        return "a template cannot define macros"
    return None


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def check(source: str, sample: Mapping[str, Any], *, field: str = "body") -> None:
    """Refuse a template that would not render, or that tries to do more than fill in text."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            f"The template does not parse: {exc.message} (line {exc.lineno}).",
            errors=[field_error(field, f"line {exc.lineno}: {exc.message}")],
        ) from exc
    for node in _walk(tree):
        reason = _describe(node)
        if reason:
            line = getattr(node, "lineno", "?")
            raise TemplateRefused(
                f"The template is refused: {reason} (line {line}). Templates fill in incident details "
                "with placeholders, conditions and loops; they cannot run code or read settings.",
                errors=[field_error(field, f"line {line}: {reason}")],
            )
    render(source, sample, field=field)


def render(source: str, context: Mapping[str, Any], *, field: str = "template") -> str:
    """The template filled in with ``context``; refused (422) when the sandbox stops it."""
    try:
        text = _ENV.from_string(source).render(dict(context)).strip()
    except SecurityError as exc:
        raise TemplateRefused(
            f"The template is refused: {str(exc).rstrip('.')}. Templates cannot run code or read settings.",
            errors=[field_error(field, str(exc))],
        ) from exc
    except TemplateError as exc:
        raise TemplateRefused(
            f"The template cannot be rendered: {(exc.message or type(exc).__name__).rstrip('.')}.",
            errors=[field_error(field, exc.message or type(exc).__name__)],
        ) from exc
    if len(text) > MAX_OUTPUT:
        raise TemplateRefused(
            f"The rendered message is longer than {MAX_OUTPUT} characters.",
            errors=[field_error(field, f"renders to more than {MAX_OUTPUT} characters")],
        )
    return text
