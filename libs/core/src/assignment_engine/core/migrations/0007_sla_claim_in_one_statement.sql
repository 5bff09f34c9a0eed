-- The SLA monitor marks a batch of clocks, inserts their escalations and
-- writes their outbox events in one statement.

-- Every SLA monitor transaction that inserts escalation events locks their
-- work items FOR KEY SHARE first, in the warning, breach and re-escalation
-- claims. This foreign key's check took that lock again for every inserted
-- row, at about 7 µs a row. A work item cannot be deleted while its SLA clock
-- exists, because sla_clocks references it, and the monitor escalates only
-- items with a clock.
ALTER TABLE escalation_events DROP CONSTRAINT escalation_events_work_item_id_fkey;

-- Protobuf wire format, so that a statement can build its own outbox payloads.
-- The encoding is that of https://protobuf.dev/programming-guides/encoding/,
-- with fields in field number order, as the Python protobuf runtime writes
-- them.

-- The base 128 varint of `value`, seven bits a byte from the lowest, with the
-- top bit of every byte but the last set. A negative value takes 10 bytes, the
-- two's complement of int64.
CREATE FUNCTION protobuf_varint_loop(value bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    encoded bytea := ''::bytea;
    rest bigint := value;
BEGIN
    IF value < 0 THEN
        -- The low 63 bits in nine groups of seven, then the sign bit.
        rest := value & 9223372036854775807;
        FOR i IN 1..9 LOOP
            encoded := encoded || set_byte('\x00'::bytea, 0, ((rest & 127) | 128)::integer);
            rest := rest >> 7;
        END LOOP;
        RETURN encoded || '\x01'::bytea;
    END IF;
    WHILE rest >= 128 LOOP
        encoded := encoded || set_byte('\x00'::bytea, 0, ((rest & 127) | 128)::integer);
        rest := rest >> 7;
    END LOOP;
    RETURN encoded || set_byte('\x00'::bytea, 0, rest::integer);
END;
$$;

-- The same varint. Values from 0 to 2^35 - 1 (field tags, lengths, nanoseconds
-- and Unix seconds until the year 3058) are packed into one bigint, whose last
-- bytes int8send returns, and the loop encodes the others. This SQL function is inlined into the calling
-- statement, which is about ten times faster than calling the PL/pgSQL loop.
CREATE FUNCTION protobuf_varint(value bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value < 0 THEN protobuf_varint_loop(value)
        WHEN value < 128 THEN substring(int8send(value) FROM 8)
        WHEN value < 16384 THEN substring(int8send(
                    (((value & 127) | 128) << 8)
                    | (value >> 7)
                ) FROM 7)
        WHEN value < 2097152 THEN substring(int8send(
                    (((value & 127) | 128) << 16)
                    | ((((value >> 7) & 127) | 128) << 8)
                    | (value >> 14)
                ) FROM 6)
        WHEN value < 268435456 THEN substring(int8send(
                    (((value & 127) | 128) << 24)
                    | ((((value >> 7) & 127) | 128) << 16)
                    | ((((value >> 14) & 127) | 128) << 8)
                    | (value >> 21)
                ) FROM 5)
        WHEN value < 34359738368 THEN substring(int8send(
                    (((value & 127) | 128) << 32)
                    | ((((value >> 7) & 127) | 128) << 24)
                    | ((((value >> 14) & 127) | 128) << 16)
                    | ((((value >> 21) & 127) | 128) << 8)
                    | (value >> 28)
                ) FROM 4)
        ELSE protobuf_varint_loop(value)
    END
$$;

-- A string field, or nothing for NULL or the empty string (the proto3 default).
CREATE FUNCTION protobuf_string(field integer, value text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL OR value = '' THEN ''::bytea
                ELSE protobuf_varint(field * 8 + 2)
                     || protobuf_varint(octet_length(convert_to(value, 'UTF8')))
                     || convert_to(value, 'UTF8') END
$$;

-- An int32 or int64 field, or nothing for 0 (the proto3 default).
CREATE FUNCTION protobuf_int(field integer, value bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL OR value = 0 THEN ''::bytea
                ELSE protobuf_varint(field * 8) || protobuf_varint(value) END
$$;

-- An embedded message field, written even when `payload` is empty because a
-- set message field is present on the wire. It is PL/pgSQL so that `payload`
-- is evaluated once: a SQL function that names it twice is not inlined when
-- the argument is a function call, and then runs about ten times slower.
CREATE FUNCTION protobuf_message(field integer, payload bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN protobuf_varint(field * 8 + 2) || protobuf_varint(octet_length(payload))
           || payload;
END;
$$;

-- A google.protobuf.Timestamp message: whole seconds since the Unix epoch,
-- rounded down, and the non-negative nanoseconds after them. PL/pgSQL computes
-- the microseconds once, where the inlined varint would repeat the extract for
-- every reference.
CREATE FUNCTION protobuf_timestamp(instant timestamptz) RETURNS bytea
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    micros bigint := (extract(epoch FROM instant) * 1000000)::bigint;
    fraction bigint := (micros % 1000000 + 1000000) % 1000000;
BEGIN
    RETURN protobuf_int(1, (micros - fraction) / 1000000) || protobuf_int(2, fraction * 1000);
END;
$$;
