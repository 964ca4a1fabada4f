{#-
  Maximal status intervals of constant `flag_column` per `partition_by`, from contiguous status intervals
  (valid_from, valid_until, txn_type = the event that opened the interval, 'initial' for the first), with the
  event that opened each island (start_txn_type) and the event that closed it (end_txn_type, the next
  island's opening event). An initial interval still open (a coverage without status events, most of them)
  is an island by itself and skips the window passes.
-#}
{% macro rating_status_islands(intervals, partition_by, flag_column) -%}
select
    {%- for col in partition_by %}
    {{ col }},
    {%- endfor %}
    {{ flag_column }},
    valid_from,
    valid_until,
    txn_type as start_txn_type,
    cast(null as {{ dbt.type_string() }}) as end_txn_type
from {{ intervals }}
where txn_type = 'initial'
    and valid_until is null

union all

select
    {%- for col in partition_by %}
    {{ col }},
    {%- endfor %}
    {{ flag_column }},
    valid_from,
    valid_until,
    txn_type as start_txn_type,
    lead(txn_type) over (partition by {{ partition_by | join(', ') }} order by valid_from) as end_txn_type
from (
    {{ collapse_intervals(
        '(select * from ' ~ intervals ~ " where not (txn_type = 'initial' and valid_until is null))",
        partition_by, [flag_column], ['txn_type']
    ) }}
) as islands
{%- endmacro %}
