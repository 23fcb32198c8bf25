"""``archive search`` and ``archive index …``: the command-line face of :mod:`indexer`."""

from __future__ import annotations

import html
import re
import sys
import time

import click

from archive.core.clikit import Context, emit_json, json_option, pass_ctx
from archive.core.config import ROLES

from .engine import ENGINE_NAMES
from .index import SearchIndex
from .results import SearchFilters

__all__ = ["COMMANDS", "index_group", "search_command"]

_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(highlighted: str, colour: bool) -> str:
    """Highlight HTML → terminal text: bold where a colour terminal, [brackets] elsewhere."""

    def mark(m: re.Match[str]) -> str:
        inner = m.group(1)
        return click.style(inner, bold=True, fg="yellow") if colour else f"[{inner}]"

    return html.unescape(_MARK_RE.sub(mark, highlighted))


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="public",
    show_default=True,
    help="Search as this viewer: nothing above the role is ever shown or counted.",
)
@click.option("--collection", default=None, help="Only this collection (webinar, interview, …).")
@click.option("--year", default=None, help="Only this year (2019) or range (2014-2019).")
@click.option("--lang", default=None, help="Only segments spoken in zh or en.")
@click.option("--speaker", default=None, help="Only this speaker.")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Items per page."
)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON list of hits (each with the expansions used).",
)
@pass_ctx
def search_command(
    ctx: Context,
    query: tuple[str, ...],
    role: str,
    collection: str | None,
    year: str | None,
    lang: str | None,
    speaker: str | None,
    limit: int,
    page: int,
    as_json: bool,
) -> None:
    """Search titles, descriptions and transcripts in Chinese and English.

    \b
    Words must all match; "exact phrase"; a OR b; -exclude; prefix*;
    collection:C speaker:"Name" year:2019 (or 2014-2019) lang:zh|en.
    Simplified, Traditional and Hong Kong forms find the same text; the
    glossary adds the other language's term ("also searched: …").

    \b
    Examples:
      archive search 碼頭工人罷工
      archive search '"bar-benders"' --role members --json
      archive search dock strike year:2013-2014 --collection webinar --limit 5
    """
    text = " ".join(query)
    index = SearchIndex.open(ctx.settings)
    results = index.search(
        text,
        role=role,
        filters=SearchFilters(collection=collection, year=year, lang=lang, speaker=speaker),
        page=page,
        per_page=limit,
    )
    if as_json:
        hits = []
        for group in results.groups:
            for hit in group.hits:
                data = hit.to_dict()
                data["expansions"] = list(results.expansions)
                data["notice"] = results.notice
                hits.append(data)
        emit_json(hits)
        if results.expansions:
            click.echo(f"also searched: {', '.join(results.expansions)}", err=True)
        if results.notice:
            click.echo(f"note: {results.notice}", err=True)
        return
    colour = sys.stdout.isatty()
    if results.notice:
        click.echo(f"Note: {results.notice}")
    if results.expansions:
        click.echo(f"Also searched: {', '.join(results.expansions)}")
    if not results.total_items:
        click.echo("No results.")
        return
    about = "" if results.exact else "at least "
    click.echo(
        f"{about}{results.total_items} item(s), {about}{results.total_hits} matching segment(s); "
        f"page {results.page} of {results.pages}"
        + ("" if results.exact else " (counts cover the best-scoring matches)")
    )
    for number, group in enumerate(results.groups, start=(results.page - 1) * limit + 1):
        title = " / ".join(t for t in (group.title_zh, group.title_en) if t) or group.item_id
        where = ", ".join(str(x) for x in (group.collection, group.year) if x)
        click.echo(f"\n{number}. {title}  [{where}]  {group.permalink}  score {group.score:.2f}")
        for hit in group.hits:
            first, second = ("zh", "en") if hit.lang != "en" else ("en", "zh")
            lines = [
                _terminal(hit.highlights[k], colour) for k in (first, second) if hit.highlights[k]
            ]
            if lines and lines[0] == (lines[1] if len(lines) > 1 else None):
                lines = lines[:1]
            click.echo(f"   {_clock(hit.start)}  {lines[0] if lines else ''}")
            for line in lines[1:]:
                click.echo(f"             {line}")
            click.echo(f"             {hit.permalink}")


@click.group("index")
def index_group() -> None:
    """Maintain the search index (it is updated automatically on ingest and edits).

    \b
    Examples:
      archive index verify
      archive index rebuild
      archive index update ITEM_ID
      archive index repair
    """


@index_group.command("rebuild")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="Build the new index with this search engine and keep using it from then on "
    "(default: the engine the index uses now).",
)
@pass_ctx
def rebuild_command(ctx: Context, engine: str | None) -> None:
    """Rebuild the whole index from the catalog; searches keep working meanwhile.

    Searches switch to the new index at once when it is complete, so this is also how an
    archive changes its search engine (whoosh: pure Python, the default; tantivy: for large
    archives).

    \b
    Examples:
      archive index rebuild
      archive index rebuild --engine tantivy
    """
    catalog = ctx.catalog
    index = SearchIndex.open(ctx.settings)
    before = index.engine_name()
    started = time.monotonic()
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= 2 or done == total:
            shown[0] = now
            click.echo(f"  {done}/{total} items", err=True)

    docs = index.rebuild(catalog, progress=progress, engine=engine)
    after = index.engine_name()
    switched = f", switched from {before} to {after}" if after != before else ""
    click.echo(
        f"Rebuilt the search index: {docs} documents from {len(catalog.item_ids())} items "
        f"in {time.monotonic() - started:.1f} s ({after} engine{switched})."
    )


@index_group.command("verify")
@json_option
@pass_ctx
def verify_command(ctx: Context, as_json: bool) -> None:
    """Compare the index with the catalog; exit 1 if any item differs. Also says which search
    engine the index uses.

    \b
    Examples:
      archive index verify || archive index rebuild
      archive index verify --json
    """
    catalog = ctx.catalog
    index = SearchIndex.open(ctx.settings)
    problems = index.verify(catalog)
    engine = index.engine_name()
    items = len(catalog.item_ids())
    if as_json:
        emit_json(
            {
                "engine": engine,
                "generation": index.current_generation(),
                "items": items,
                "agrees": not problems,
                "problems": [{"item_id": p.item_id, "problem": p.problem} for p in problems],
            }
        )
        if problems:
            raise click.exceptions.Exit(1)
        return
    if not problems:
        click.echo(f"The search index ({engine} engine) agrees with the catalog ({items} items).")
        return
    click.echo(f"The search index uses the {engine} engine.")
    for problem in problems:
        click.echo(f"{problem.item_id or '(index)'}: {problem.problem}")
    items = len({p.item_id for p in problems})
    click.echo(f"{items} item(s) differ from the catalog: run 'archive index rebuild'.")
    raise click.exceptions.Exit(1)


@index_group.command("update")
@click.argument("item_ids", nargs=-1, required=True)
@pass_ctx
def update_command(ctx: Context, item_ids: tuple[str, ...]) -> None:
    """Re-index the given items from the catalog (removes those no longer in it).

    \b
    Example:
      archive index update k3m9xq2b7a
    """
    index = SearchIndex.open(ctx.settings)
    for item_id in item_ids:
        docs = index.update_item(ctx.catalog, item_id)
        click.echo(
            f"{item_id}: {docs} document(s) indexed"
            if docs
            else f"{item_id}: removed from the index"
        )


@index_group.command("repair")
@pass_ctx
def repair_command(ctx: Context) -> None:
    """Re-index every item that differs from the catalog (rebuild if the index is unreadable).

    The worker also does this every night at 04:00.

    \b
    Example:
      archive index repair
    """
    problems = SearchIndex.open(ctx.settings).repair(ctx.catalog)
    if not problems:
        click.echo("Nothing to repair: the search index agrees with the catalog.")
        return
    for problem in problems:
        click.echo(f"{problem.item_id or '(index)'}: {problem.problem}")
    if any(not p.item_id for p in problems):
        click.echo("Rebuilt the search index.")
    else:
        click.echo(f"Re-indexed {len({p.item_id for p in problems})} item(s).")


COMMANDS = [search_command, index_group]
