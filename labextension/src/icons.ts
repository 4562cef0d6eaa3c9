import { LabIcon } from '@jupyterlab/ui-components';

import submarineSvgStr from '../style/icons/submarine.svg';

export const submarineIcon = new LabIcon({
  name: 'submarine-hub:submarine',
  svgstr: submarineSvgStr
});
