"""The resources the API serves: for each, its bodies, list parameters and indexes.

Everything else (handlers, repository, OpenAPI document, tests) is written once and reads
these declarations. To add a resource, add its models and declaration here and list it
in RESOURCES (the README shows each step).
"""
{%- set resources = cookiecutter.resources | parse_resources %}

from __future__ import annotations

{{ resources | resources_imports(cookiecutter.package_name) }}
{%- for resource in resources %}
{%- set not_null = resource.names_where("optional", False) %}
{%- set aliases = resource.fields | selectattr("alias") | list %}
{%- if aliases %}
{{ "" if loop.first else "\n" }}
{%- for field in aliases %}
{{ field.alias_definition }}
{%- endfor %}
{%- endif %}


class {{ resource.pascal }}Create(RequestBody):
    """POST body: a new {{ resource.singular }}."""
{% for field in resource.fields %}
{{ field.create_line }}
{%- endfor %}


class {{ resource.pascal }}Replace({{ resource.pascal }}Create):
    """PUT body: the whole {{ resource.singular }}, validated exactly as on create."""


class {{ resource.pascal }}Patch(PatchBody):
    """PATCH body: only the fields to change."""
{% if not_null %}
    NOT_NULL = {{ not_null | py_tuple(85, 4) }}
{% endif %}
{%- for field in resource.fields %}
{{ field.patch_line }}
{%- endfor %}


class {{ resource.pascal }}Public(PublicBody):
    """A stored {{ resource.singular }} as the API returns it."""
{% for field in resource.fields %}
{{ field.public_line }}
{%- endfor %}


class {{ resource.pascal }}Query(ListParameters):
    """`GET /{{ resource.collection }}`: exact-value filters, sort order and paging."""
{% if resource.forms %}
    FORMS: ClassVar[dict[str, str]] = {{ resource.forms | py_dict(62, 4) }}
{% endif %}
    sort: Literal{{ resource.sort_options | py_list(74, 4) }} = "id"
{%- for field in resource.fields %}
{{ field.query_line }}
{%- endfor %}


{{ resource.constant }} = Resource(
    name="{{ resource.collection }}",
    singular="{{ resource.singular }}",
    create={{ resource.pascal }}Create,
    replace={{ resource.pascal }}Replace,
    patch={{ resource.pascal }}Patch,
    public={{ resource.pascal }}Public,
    query={{ resource.pascal }}Query,
{%- if resource.names_where("unique") %}
    unique={{ resource.names_where("unique") | py_tuple(86, 4) }},
{%- endif %}
{%- if resource.names_where("optional_unique") %}
    sparse={{ resource.names_where("optional_unique") | py_tuple(86, 4) }},
{%- endif %}
{%- if resource.names_where("indexed") %}
    indexed={{ resource.names_where("indexed") | py_tuple(85, 4) }},
{%- endif %}
{%- if resource.names_where("scalar", "decimal") %}
    decimal_fields={{ resource.names_where("scalar", "decimal") | py_tuple(78, 4) }},
{%- endif %}
)
{%- endfor %}

# Every resource the service serves: routes, indexes and the OpenAPI document follow this.
RESOURCES = {{ resources | map(attribute="constant") | list | py_tuple(88, quoted=False) }}
