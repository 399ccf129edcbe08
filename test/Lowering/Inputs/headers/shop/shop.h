// Includes counter.h: cleave's copy of this file names its copy of it.
#pragma once
#include "counter.h"
#include "money.h"
