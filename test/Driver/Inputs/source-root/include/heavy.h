#pragma once

int heavy(int x);
