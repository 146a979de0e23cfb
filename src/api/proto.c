/* proto.c — lookups over the generated protobuf message table (src/api/gen/proto.c).
 * Both tables are sorted by the generator, so lookups are binary searches; a message's
 * fields are few and kept in JSON order, so a field is found by a linear scan. */
#include "api/proto.h"

#include <stdlib.h>
#include <string.h>

static int
compare_message_name(const void *key, const void *element)
{
  return strcmp(key, ((const struct proto_message *)element)->name);
}

struct kind_key {
  const char *api_version;
  const char *kind;
};

static int
compare_kind(const void *key, const void *element)
{
  const struct kind_key *k = key;
  const struct proto_kind *row = element;
  int c = strcmp(k->api_version, row->api_version);
  return c != 0 ? c : strcmp(k->kind, row->kind);
}

const struct proto_message *
proto_message_find(const char *name)
{
  return bsearch(name, proto_messages, proto_messages_count, sizeof proto_messages[0],
                 compare_message_name);
}

const struct proto_message *
proto_message_for_kind(const char *api_version, const char *kind)
{
  struct kind_key key = {api_version, kind};
  const struct proto_kind *row =
      bsearch(&key, proto_kinds, proto_kinds_count, sizeof proto_kinds[0], compare_kind);
  return row ? &proto_messages[row->message] : NULL;
}

const struct proto_field *
proto_message_field(const struct proto_message *message, uint32_t number)
{
  for (size_t i = 0; i < message->field_count; i++)
    if (message->fields[i].number == number)
      return &message->fields[i];
  return NULL;
}
