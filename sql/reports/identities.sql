-- one row per identity the warehouse names (device name, serial number,
-- user, tenant): what --mask replaces by pseudonyms
with

bundles as (
    select * from stg_ingest__bundles
),

attributes as (
    select * from fct_device_attribute_values
    where
        attribute in (
            'device_name', 'serial_number', 'tenant_id', 'tenant_name'
        )
),

-- registry values that name a person or a tenant
registry as (
    select * from stg_registry__values
    where value_name_key in (
        'upn', 'userupn', 'useremail', 'username',
        'cloudassignedtenantdomain', 'cloudassignedtenantid',
        'aadtenantid', 'tenantid', 'tenantname', 'tenantdomain'
    )
),

named as (
    select
        'device' as kind,
        device_name as value
    from bundles
    union all
    select
        'serial' as kind,
        serial_number as value
    from bundles
    union all
    select
        case attribute
            when 'device_name' then 'device'
            when 'serial_number' then 'serial'
            else 'tenant'
        end as kind,
        value
    from attributes
    union all
    select
        case
            when value_name_key like '%tenant%' then 'tenant' else 'user'
        end as kind,
        value_text as value
    from registry
),

final as (
    select distinct
        kind,
        trim(value) as value
    from named
    where nullif(trim(value), '') is not null
)

select * from final
