#ifndef OMBUDS_CLIBYAML_SHIM_H
#define OMBUDS_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
